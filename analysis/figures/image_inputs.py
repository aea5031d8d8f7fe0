"""What every per-image figure draws from: the model, one analysed image and how it is looked at."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from srn_core import SRN

from ..measures.semantic import influence_maps
from ..measures.whatif import Edit, WhatIf, what_if
from ..session import ImageAnalysis, LabelRef


@dataclass
class ImageView:
    """How one image is looked at: the chosen label, map kind and overlay style (`fade`: see
    `overlay_image`), top-k and threshold, the labels shown in the grid (default: the top-k) and the
    kinds (default: `kind` alone), a what-if edit (default: remove the label) and the label's Grad-CAM."""

    label: LabelRef
    kind: str = "attention"
    mode: str = "nearest"
    cmap: str = "jet"
    opacity: float = 0.5
    fade: bool = False
    top_k: int = 5
    threshold: float = 0.5
    grid_labels: list[int] | None = None
    grid_kinds: tuple[str, ...] | None = None
    edit: Edit | None = None
    gradcam: np.ndarray | None = field(default=None, repr=False)


class ImageInputs:
    """The model, an analysed image and an `ImageView`, with what the per-image figures derive from them.

    Measures that several figures share (the influence maps, the what-if) are computed on first use and
    kept, also by the copies `for_label` makes.
    """

    def __init__(
        self, model: SRN, analysis: ImageAnalysis, view: ImageView, shared: dict[Any, Any] | None = None
    ) -> None:
        self.model, self.analysis, self.view = model, analysis, view
        self.label = analysis.indices([view.label])[0]
        self._shared = {} if shared is None else shared

    @property
    def label_name(self) -> str:
        return self.analysis.label_names[self.label]

    @property
    def top(self) -> list[int]:
        """The view's top-k labels by fused score."""
        return self.analysis.top_labels(self.view.top_k)

    @property
    def shown(self) -> list[int]:
        """The labels of the grid."""
        return list(self.view.grid_labels) if self.view.grid_labels is not None else self.top

    @property
    def kinds(self) -> tuple[str, ...]:
        """The map kinds of the grid."""
        return tuple(self.view.grid_kinds or (self.view.kind,))

    @property
    def style(self) -> dict[str, Any]:
        """The overlay style, as the map figures take it."""
        v = self.view
        return {"mode": v.mode, "cmap": v.cmap, "opacity": v.opacity, "fade": v.fade}

    @property
    def edit(self) -> Edit:
        return self.view.edit or Edit(self.label, "remove")

    def influence(self) -> np.ndarray:
        """`influence_maps(model, analysis)`, (C, C, g, g), computed once."""
        if "influence" not in self._shared:
            self._shared["influence"] = influence_maps(self.model, self.analysis)
        return self._shared["influence"]

    def what_if(self) -> WhatIf:
        """The what-if of the view's edit, computed once per edit."""
        key = ("what_if", self.edit)
        if key not in self._shared:
            self._shared[key] = what_if(self.model, self.analysis, self.edit)
        return self._shared[key]

    def for_label(self, label: LabelRef, gradcam: np.ndarray | None = None) -> ImageInputs:
        """The same image and style with `label` chosen (and its Grad-CAM), sharing the computed measures."""
        view = dataclasses.replace(self.view, label=label, gradcam=gradcam)
        return ImageInputs(self.model, self.analysis, view, self._shared)
