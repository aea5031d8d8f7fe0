"""Measures: numbers computed from analysed images and the model, with no drawing.

Attention statistics and the pointing game, conv4 filters and probes, semantic and spatial label relations,
what-if edits of the weighted maps, relation probes, Grad-CAM, and the orderings the dashboard browses.
"""

from .attention_stats import (
                              AttentionStats,
                              attention_pointing,
                              attention_stats,
                              box_distance,
                              cell_to_pixel,
                              map_stats,
                              pointing_game,
)
from .filters import (
                              Conv4Filters,
                              ProbeResult,
                              conv4_filters,
                              filter_readout,
                              path_table,
                              probe_attention,
                              probe_sr,
                              sr_stages,
                              weight_drive,
)
from .gradcam import PointingComparison, compare_pointing, gradcam_maps, merge_pointing
from .relation_probes import PROBE_OPS, ProbeEffect, RelationProbe, bootstrap_ci, mirror_map, relation_probe
from .semantic import (
                              conditional_probability,
                              cooccurrence,
                              fsr_similarity,
                              gradient_x_input,
                              influence_maps,
                              influence_matrix,
                              label_matrix_of,
)
from .spatial import (
                              OffsetStats,
                              RelationField,
                              centroid_offsets,
                              holds_label,
                              map_relation_field,
                              placement_logits,
                              point_attention,
                              relation_field,
                              relation_fields,
)
from .whatif import Edit, WhatIf, apply_edits, shift_map, what_if, what_if_each

__all__ = [
    "PROBE_OPS", "AttentionStats", "Conv4Filters", "Edit", "OffsetStats", "PointingComparison", "ProbeEffect",
    "ProbeResult", "RelationField", "RelationProbe", "WhatIf", "apply_edits", "attention_pointing", "attention_stats",
    "bootstrap_ci", "box_distance", "cell_to_pixel", "centroid_offsets", "compare_pointing", "conditional_probability",
    "conv4_filters", "cooccurrence", "filter_readout", "fsr_similarity", "gradcam_maps", "gradient_x_input",
    "holds_label", "influence_maps", "influence_matrix", "label_matrix_of", "map_relation_field", "map_stats",
    "merge_pointing", "mirror_map", "path_table", "placement_logits", "point_attention", "pointing_game",
    "probe_attention", "probe_sr", "relation_field", "relation_fields", "relation_probe", "shift_map", "sr_stages",
    "weight_drive", "what_if", "what_if_each",
]
