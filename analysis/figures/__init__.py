"""Figures: measures drawn twice, with the same names and arguments, by `mpl` (publication: PNG / SVG /
PDF) and `plotly` (interactive): `from analysis.figures import mpl as fm, plotly as fp`.

`overlay` blends maps onto images; `label_graph` and `probes` draw the relation graph and probe results.
Only `overlay` is imported here, so that `import analysis` does not load the figure builders.
"""

from .overlay import Overlays, blend, colorize, normalize_maps, overlay_image, overlay_maps, upsample_maps

__all__ = ["Overlays", "blend", "colorize", "normalize_maps", "overlay_image", "overlay_maps", "upsample_maps"]
