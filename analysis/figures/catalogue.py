"""The figure catalogue: every figure once, as a `FigureEntry` with the inputs it takes, its matplotlib and
plotly builders, its data rows and the marks both renderings promise to draw.

Entries live in `analysis.figures.entries`, one module per figure holding both renderings side by side;
every module there is imported on first use, so adding a module adds its figure everywhere its scope is
drawn: an "image" entry reaches the report's image pages, the per-image ZIP and the Images view's
downloads without further code. `tests/test_figure_catalogue.py` builds every entry both ways and checks
that both draw its marks.

    from analysis.figures.catalogue import build, entries
    spec = build("matrix", matrix=m)          # a FigureSpec: spec.mpl(), spec.plotly(), spec.rows()
    [e.name for e in entries("image")]        # ['scores', 'grid', 'label', 'influence', 'what_if']
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from srn_core import SRN

from ..export.files import FigureSpec
from ..session import ImageAnalysis
from .image_inputs import ImageInputs, ImageView

SCOPES = {
    "image": "one analysed image, drawn from `ImageInputs` (report image pages, the ZIP, the Images view)",
    "edit": "a what-if edit of one image's U, drawn from `ImageInputs` (the what-if view)",
    "images": "a set of analysed images (centroid offsets, the pointing game)",
    "pair": "a label pair (its relation field)",
    "model": "the model's weights (conv4 filters)",
    "matrix": "a label matrix (heat map, label graph)",
    "probe": "a relation probe",
    "faithfulness": "a faithfulness summary",
}
MARKS = {
    "image": "a picture: the image, or a map blended over it",
    "heatmap": "values drawn through a colour scale (a matrix, filters, a field)",
    "colorbar": "a colour bar",
    "peak": "an x marker: a map's peak",
    "centroid": "an open circle: a map's centroid, a field's best offset",
    "centre": "a + marker: the grid centre, the anchor",
    "mean": "a star: a mean offset",
    "ellipse": "an ellipse: one standard deviation around a mean",
    "boxes": "unfilled rectangles: ground-truth boxes",
    "bars": "bars",
    "error_bars": "intervals: error bars or bands",
    "threshold": "a dashed reference line",
    "sign": "a filter's sign, (+), (-) or (0), in its panel title",
    "points": "scatter points",
    "lines": "lines (curves, edges between labels)",
}

Text = str | Callable[..., str]


def _text(text: Text, inputs: dict[str, Any]) -> str:
    return text(**inputs) if callable(text) else text


@dataclass(frozen=True)
class FigureEntry:
    """One figure of the catalogue.

    `name` is its key and default file name; `title` and `stem` (the file name) may be functions of the
    inputs. `mpl`, `plotly`, `rows` (CSV rows) and `data` (the JSON written beside it; default the rows)
    take the inputs as keyword arguments: every name in `inputs`, and those of `optional` when given.
    `per_label`: an image figure of the chosen label, which the report draws for each of its top labels.
    `marks`: what both renderings draw (names from MARKS). `order` sorts the entries of a scope.
    """

    name: str
    title: Text
    scope: str
    inputs: tuple[str, ...]
    mpl: Callable[..., Any]
    plotly: Callable[..., Any]
    marks: frozenset[str]
    rows: Callable[..., list[dict[str, Any]]] | None = None
    data: Callable[..., Any] | None = None
    stem: Text | None = None
    optional: tuple[str, ...] = ()
    per_label: bool = False
    order: int = 100

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"figure {self.name!r}: unknown scope {self.scope!r}; choose from {tuple(SCOPES)}")
        unknown = sorted(set(self.marks) - set(MARKS))
        if unknown or not self.marks:
            raise ValueError(f"figure {self.name!r}: marks {unknown or '(none)'}; choose from {tuple(MARKS)}")

    def spec(self, stem: str | None = None, title: str | None = None, **inputs: Any) -> FigureSpec:
        """The figure of `inputs`, built only when asked (`spec.mpl()`, `spec.plotly()`, `spec.file(...)`);
        `stem` and `title` replace the entry's own."""
        missing = [k for k in self.inputs if k not in inputs]
        extra = [k for k in inputs if k not in self.inputs + self.optional]
        if missing or extra:
            raise ValueError(
                f"figure {self.name!r} takes {self.inputs} (optional {self.optional}): "
                f"missing {missing}, unknown {extra}"
            )

        def bound(function: Callable[..., Any] | None) -> Callable[[], Any] | None:
            return None if function is None else functools.partial(function, **inputs)

        return FigureSpec(
            stem or _text(self.stem or self.name, inputs),
            title or _text(self.title, inputs),
            bound(self.mpl),
            bound(self.plotly),
            bound(self.rows),
            bound(self.data),
        )


_REGISTRY: dict[str, FigureEntry] = {}


def register(entry: FigureEntry) -> FigureEntry:
    """Add `entry` to the catalogue (entry modules call this when imported); a name is taken once."""
    if _REGISTRY.get(entry.name, entry) is not entry:
        raise ValueError(f"two figures are called {entry.name!r}")
    _REGISTRY[entry.name] = entry
    return entry


@functools.cache
def _catalogue() -> dict[str, FigureEntry]:
    from . import entries as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return _REGISTRY


def entries(scope: str | None = None) -> list[FigureEntry]:
    """The entries of `scope` (default: all), in their order."""
    if scope is not None and scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; choose from {tuple(SCOPES)}")
    found = [e for e in _catalogue().values() if scope in (None, e.scope)]
    return sorted(found, key=lambda e: (e.order, e.name))


def entry(name: str) -> FigureEntry:
    """The entry called `name`."""
    found = _catalogue().get(name)
    if found is None:
        raise ValueError(f"no figure {name!r} in the catalogue; it holds {sorted(_catalogue())}")
    return found


def build(name: str, stem: str | None = None, title: str | None = None, **inputs: Any) -> FigureSpec:
    """The figure `name` of `inputs` (see `FigureEntry.spec`)."""
    return entry(name).spec(stem, title, **inputs)


def image_figures(model: SRN, analysis: ImageAnalysis, view: ImageView, scope: str = "image") -> dict[str, FigureSpec]:
    """Every figure of `scope` ("image": scores, grid, label, influence, what_if and any entry added since;
    "edit": edit_maps) of `analysis` under `view`, keyed by entry name; measures they share are computed once."""
    inputs = ImageInputs(model, analysis, view)
    return {e.name: e.spec(image=inputs) for e in entries(scope)}
