"""One module per figure (or family), each holding its matplotlib and plotly renderings side by side and
registering its `FigureEntry`; `analysis.figures.catalogue` imports every module here on first use, so
adding a module is enough to add a figure."""
