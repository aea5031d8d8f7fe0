"""All plotly figures in one namespace, same names and arguments as `mpl`:
`from analysis.figures import plotly as fp`."""

from .plotly_maps import attention_grid_figure, influence_maps_figure, label_maps_figure, score_bars_figure
from .plotly_relations import (
                                       conv4_filters_figure,
                                       matrix_figure,
                                       offsets_figure,
                                       pointing_figure,
                                       relation_field_figure,
                                       what_if_figure,
)

__all__ = ["attention_grid_figure", "conv4_filters_figure", "influence_maps_figure", "label_maps_figure",
           "matrix_figure", "offsets_figure", "pointing_figure", "relation_field_figure", "score_bars_figure",
           "what_if_figure"]
