"""analysis: SRN's attention, conv4 filters and label relations as numbers and figures.

Computation only; the dashboard lays the results out. Start with `Analyzer` (`session`: one forward pass
per image -> `ImageAnalysis`), then pass analyses and the model to the parts:
- `measures`: attention statistics, conv4 filters, semantic and spatial relations, what-if, probes, Grad-CAM;
- `figures`: the same figures in `figures.mpl` (publication) and `figures.plotly` (interactive), overlays;
- `export`: figures and data as files, and the per-image ZIP; `tables`: `LabelMatrix` and plain values;
- `report`, `proof`, `faithfulness`: the `python -m analysis` subcommands and what they compute (`cli`).
"""

from srn_core.sources import align_dataset

from . import export, figures, measures
from .export import *  # noqa: F403 (the sub-packages' public names, as listed in their __all__)
from .figures import *  # noqa: F403
from .measures import *  # noqa: F403
from .session import MAP_KINDS, Analyzer, ImageAnalysis, resolve_labels, sigmoid, sr_forward
from .tables import LabelMatrix

__all__ = ["MAP_KINDS", "Analyzer", "ImageAnalysis", "LabelMatrix", "align_dataset", "resolve_labels", "sigmoid"]
__all__ += ["sr_forward", *export.__all__, *figures.__all__, *measures.__all__]
