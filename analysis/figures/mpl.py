"""The matplotlib rendering of every catalogue figure under one name each: `from analysis.figures import mpl as fm`.

Each function lives in its figure's module in `entries`, beside its plotly twin (`figures.plotly`, same
names and arguments).
"""

from .entries.filters import conv4_filters_figure_mpl as conv4_filters_figure
from .entries.grid import attention_grid_figure_mpl as attention_grid_figure
from .entries.influence import influence_maps_figure_mpl as influence_maps_figure
from .entries.label_maps import label_maps_figure_mpl as label_maps_figure
from .entries.matrix import matrix_figure_mpl as matrix_figure
from .entries.offsets import offsets_figure_mpl as offsets_figure
from .entries.pointing import pointing_figure_mpl as pointing_figure
from .entries.relation_field import relation_field_figure_mpl as relation_field_figure
from .entries.scores import score_bars_figure_mpl as score_bars_figure
from .entries.what_if import what_if_figure_mpl as what_if_figure

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
