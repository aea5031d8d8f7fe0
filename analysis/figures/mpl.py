"""All matplotlib figures in one namespace: `from analysis.figures import mpl as fm`."""

from .mpl_maps import attention_grid_figure, influence_maps_figure, label_maps_figure, score_bars_figure
from .mpl_relations import (
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
