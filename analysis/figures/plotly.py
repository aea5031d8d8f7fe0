"""The plotly rendering of every catalogue figure under one name each: `from analysis.figures import plotly as fp`.

Each function lives in its figure's module in `entries`, beside its matplotlib twin (`figures.mpl`, same
names and arguments).
"""

from .entries.filters import conv4_filters_figure_plotly as conv4_filters_figure
from .entries.grid import attention_grid_figure_plotly as attention_grid_figure
from .entries.influence import influence_maps_figure_plotly as influence_maps_figure
from .entries.label_maps import label_maps_figure_plotly as label_maps_figure
from .entries.matrix import matrix_figure_plotly as matrix_figure
from .entries.offsets import offsets_figure_plotly as offsets_figure
from .entries.pointing import pointing_figure_plotly as pointing_figure
from .entries.relation_field import relation_field_figure_plotly as relation_field_figure
from .entries.scores import score_bars_figure_plotly as score_bars_figure
from .entries.what_if import what_if_figure_plotly as what_if_figure

__all__ = [
    "attention_grid_figure",
    "conv4_filters_figure",
    "influence_maps_figure",
    "label_maps_figure",
    "matrix_figure",
    "offsets_figure",
    "pointing_figure",
    "relation_field_figure",
    "score_bars_figure",
    "what_if_figure",
]
