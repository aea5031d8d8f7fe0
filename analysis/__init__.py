"""analysis: SRN's attention, conv4 filters and label relations as numbers and figures.

Computation only; the dashboard lays the results out. Start with `Analyzer` (one forward pass per
image -> `ImageAnalysis`), then pass analyses and the model to the measures below. Figures live in
`analysis.figures_mpl` (publication) and `analysis.figures_plotly` (interactive), with the same names.
"""

from .attention_stats import (AttentionStats, attention_pointing, attention_stats, box_distance, cell_to_pixel,
                              map_stats, pointing_game)
from .export import save_csv, save_data, save_figure, save_html, save_json
from .filters import (Conv4Filters, ProbeResult, conv4_filters, filter_readout, path_table, probe_attention, probe_sr,
                      sr_stages, weight_drive)
from .gradcam import PointingComparison, compare_pointing, gradcam_maps, merge_pointing
from .overlay import Overlays, blend, colorize, normalize_maps, overlay_image, overlay_maps, upsample_maps
from .semantic import (conditional_probability, cooccurrence, fsr_similarity, gradient_x_input, influence_maps,
                       influence_matrix, label_matrix_of)
from .session import MAP_KINDS, Analyzer, ImageAnalysis, align_dataset, resolve_labels, sigmoid, sr_forward
from .relation_probes import PROBE_OPS, ProbeEffect, RelationProbe, bootstrap_ci, mirror_map, relation_probe
from .spatial import (OffsetStats, RelationField, centroid_offsets, holds_label, map_relation_field, placement_logits,
                      point_attention, relation_field, relation_fields)
from .tables import LabelMatrix
from .whatif import Edit, WhatIf, apply_edits, shift_map, what_if, what_if_each

__all__ = [
    "MAP_KINDS", "PROBE_OPS", "Analyzer", "AttentionStats", "Conv4Filters", "Edit", "ImageAnalysis", "LabelMatrix",
    "OffsetStats", "Overlays", "PointingComparison", "ProbeEffect", "ProbeResult", "RelationField", "RelationProbe",
    "WhatIf", "align_dataset", "apply_edits", "attention_pointing", "attention_stats", "blend", "bootstrap_ci",
    "box_distance", "cell_to_pixel", "centroid_offsets", "colorize", "compare_pointing", "conditional_probability",
    "conv4_filters", "cooccurrence", "filter_readout", "fsr_similarity", "gradcam_maps", "gradient_x_input",
    "holds_label", "influence_maps", "influence_matrix", "label_matrix_of", "map_relation_field", "map_stats",
    "merge_pointing", "mirror_map", "normalize_maps", "overlay_image", "overlay_maps", "path_table",
    "placement_logits", "point_attention", "pointing_game", "probe_attention", "probe_sr", "relation_field",
    "relation_fields", "relation_probe", "resolve_labels", "save_csv", "save_data", "save_figure", "save_html",
    "save_json", "shift_map", "sigmoid", "sr_forward", "sr_stages", "upsample_maps", "weight_drive", "what_if",
    "what_if_each",
]
