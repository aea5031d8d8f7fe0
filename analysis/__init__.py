"""analysis: SRN's attention, conv4 filters and label relations as numbers and figures.

Computation only; the dashboard lays the results out. Start with `Analyzer` (`session`: one forward pass
per image -> `ImageAnalysis`), then pass analyses and the model to the parts:
- `measures`: attention statistics, conv4 filters, semantic and spatial relations, what-if, probes, Grad-CAM;
- `figures`: the same figures in `figures.mpl` (publication) and `figures.plotly` (interactive), overlays;
- `export`: figures and data as files, and the per-image ZIP; `tables`: `LabelMatrix` and plain values;
- `report`, `proof`, `faithfulness`: the `python -m analysis` subcommands and what they compute (`cli`).
"""

from srn_core.sources import align_dataset

from .export import save_csv, save_data, save_figure, save_html, save_json
from .figures import Overlays, blend, colorize, normalize_maps, overlay_image, overlay_maps, upsample_maps
from .measures import (
                       PROBE_OPS,
                       AttentionStats,
                       Conv4Filters,
                       Edit,
                       OffsetStats,
                       PointingComparison,
                       ProbeEffect,
                       ProbeResult,
                       RelationField,
                       RelationProbe,
                       WhatIf,
                       apply_edits,
                       attention_pointing,
                       attention_stats,
                       bootstrap_ci,
                       box_distance,
                       cell_to_pixel,
                       centroid_offsets,
                       compare_pointing,
                       conditional_probability,
                       conv4_filters,
                       cooccurrence,
                       filter_readout,
                       fsr_similarity,
                       gradcam_maps,
                       gradient_x_input,
                       holds_label,
                       influence_maps,
                       influence_matrix,
                       label_matrix_of,
                       map_relation_field,
                       map_stats,
                       merge_pointing,
                       mirror_map,
                       path_table,
                       placement_logits,
                       point_attention,
                       pointing_game,
                       probe_attention,
                       probe_sr,
                       relation_field,
                       relation_fields,
                       relation_probe,
                       shift_map,
                       sr_stages,
                       weight_drive,
                       what_if,
                       what_if_each,
)
from .session import MAP_KINDS, Analyzer, ImageAnalysis, resolve_labels, sigmoid, sr_forward
from .tables import LabelMatrix

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
