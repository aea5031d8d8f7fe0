"""The relation spec: which classes exist and which label relations the generator plants.

A spec is a JSON or YAML file (see docs/scenes.md); `spec_reader.load_spec` reads and validates it into
the frozen `SceneSpec` defined here. Anything the generator could not obey raises `SpecError`, naming
the file, the field and the reason.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

DEFAULT_SPEC_PATH = Path(__file__).with_name("default_spec.json")


class SpecError(ValueError):
    """A spec is malformed or asks for something impossible; the message names the field and reason."""

    def __init__(self, field_name: str, reason: str, source: str = "<spec>") -> None:
        super().__init__(f"{source}: {field_name}: {reason}")
        self.field = field_name
        self.reason = reason
        self.source = source


@dataclass(frozen=True)
class ClassDef:
    """One label: its name, the glyph that draws it and its independent presence probability.

    `prior` is None for context and arrangement labels, whose presence is set by their rule;
    `glyph` is None for arrangement labels (they name a layout of two objects, not an object).
    `region` (x0, y0, x1, y1, fractions of the image) makes a position label: its object's box
    centre always lies in that region. `faint` draws the object at low contrast, without outline.
    """

    name: str
    glyph: str | None
    prior: float | None
    region: tuple[float, float, float, float] | None = None
    faint: bool = False


@dataclass(frozen=True)
class Cooccurrence:
    """When `given` is present, `then` is present with probability `p` (P(then | given) = p)."""

    id: str
    given: str
    then: str
    p: float


@dataclass(frozen=True)
class Exclusive:
    """The two labels never appear in the same image."""

    id: str
    labels: tuple[str, str]


class AnchoredPair:
    """A rule that places object `other` relative to object `anchor` (every placement rule names the two
    labels the same way: `anchor_label`, `placed_label`)."""

    anchor: str
    other: str

    @property
    def anchor_label(self) -> str:
        return self.anchor

    @property
    def placed_label(self) -> str:
        return self.other


@dataclass(frozen=True)
class Layout(AnchoredPair):
    """When both are present, `other`'s box centre = `anchor`'s box centre + offset + U(-jitter, jitter)."""

    id: str
    anchor: str
    other: str
    offset: tuple[float, float]
    jitter: float


@dataclass(frozen=True)
class Context:
    """`label` (a glyph shared with other labels) appears only beside `beside`, at offset +- jitter.

    Given `beside` is present, `label` is present with probability `p`. With `decoy_p` > 0 an
    image holds, with that probability, an unlabelled copy of the glyph away from the planted
    offset, so only the partner at the offset tells the label (spatial regularisation).
    """

    id: str
    label: str
    beside: str
    offset: tuple[float, float]
    jitter: float
    p: float
    decoy_p: float = 0.0

    @property
    def anchor_label(self) -> str:
        return self.beside

    @property
    def placed_label(self) -> str:
        return self.label


@dataclass(frozen=True)
class Arrangement(AnchoredPair):
    """`label` names one arrangement of two objects that always appear together in its family.

    With probability `p` both `anchor` and `other` are made present. Whenever both are present,
    `label` is present with probability 1/2 and then `other` sits at anchor + offset; otherwise
    (`negatives`) at anchor - offset ("mirror", the mirrored arrangement) or at one of the wrong
    offsets in `WRONG_ARRANGEMENTS` ("elsewhere": mirrored, beside, diagonal or too far), so that
    only the planted offset fires the label. Co-occurrence says nothing about `label`.
    """

    id: str
    label: str
    anchor: str
    other: str
    offset: tuple[float, float]
    jitter: float
    p: float
    negatives: str = "mirror"

    def wrong_offsets(self) -> list[tuple[float, float]]:
        """Where `other` may sit relative to `anchor` (before jitter) when `label` is absent."""
        dx, dy = self.offset
        if self.negatives == "mirror":
            return [(-dx, -dy)]
        out = []
        for angle, scale in WRONG_ARRANGEMENTS:
            c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            out.append((scale * (c * dx - s * dy), scale * (s * dx + c * dy)))
        return out


ARRANGEMENT_NEGATIVES = ("mirror", "elsewhere")
# (rotation of the planted offset in degrees, length factor) of the wrong arrangements of "elsewhere".
WRONG_ARRANGEMENTS = ((180.0, 1.0), (90.0, 1.0), (-90.0, 1.0), (45.0, 1.0), (-45.0, 1.0), (0.0, 1.45), (0.0, 1.7))


@dataclass(frozen=True)
class RenderParams:
    """How scenes look: object size (larger box side, px), rotation, strokes (<= size/7), clutter, noise."""

    object_size: tuple[int, int] = (28, 48)
    rotation_deg: float = 20.0
    stroke: tuple[int, int] = (3, 6)
    distractors: tuple[int, int] = (1, 4)
    clutter: tuple[int, int] = (8, 20)
    occlusion_p: float = 0.25
    noise_sigma: tuple[float, float] = (2.0, 6.0)


@dataclass(frozen=True)
class SceneSpec:
    """A validated spec. Build it with `load_spec` / `parse_spec`, which check every constraint."""

    image_size: int
    classes: tuple[ClassDef, ...]
    cooccurrence: tuple[Cooccurrence, ...] = ()
    exclusive: tuple[Exclusive, ...] = ()
    layout: tuple[Layout, ...] = ()
    context: tuple[Context, ...] = ()
    arrangement: tuple[Arrangement, ...] = ()
    controls: tuple[str, ...] = ()
    render: RenderParams = field(default_factory=RenderParams)
    description: str = ""

    @property
    def label_names(self) -> list[str]:
        return [c.name for c in self.classes]

    @cached_property
    def class_by_name(self) -> dict[str, ClassDef]:
        return {c.name: c for c in self.classes}

    @cached_property
    def placement_parent(self) -> dict[str, Layout | Context | Arrangement]:
        """For each object placed relative to another: the layout, context or arrangement rule placing it."""
        return {r.placed_label: r for r in (*self.layout, *self.context, *self.arrangement)}

    @cached_property
    def position_labels(self) -> tuple[str, ...]:
        """Labels told apart only by where their object sits (classes with a `region`)."""
        return tuple(c.name for c in self.classes if c.region is not None)

    @cached_property
    def cooccurrence_order(self) -> tuple[Cooccurrence, ...]:
        """Co-occurrence rules ordered so a rule's `given` is settled before the rule runs."""
        by_then = {r.then: r for r in self.cooccurrence}

        def depth(rule: Cooccurrence) -> int:
            parent = by_then.get(rule.given)
            return 0 if parent is None else 1 + depth(parent)

        return tuple(sorted(self.cooccurrence, key=depth))

    def rule_ids(self) -> list[str]:
        """Every rule id, in spec order."""
        return [r.id for r in (*self.cooccurrence, *self.exclusive, *self.layout, *self.context, *self.arrangement)]

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain JSON-ready data (loads back to an equal spec)."""
        data = json.loads(json.dumps(asdict(self)))
        data["classes"] = [{k: v for k, v in c.items() if v is not None and v is not False} for c in data["classes"]]
        for c in data["context"]:
            if not c["decoy_p"]:
                del c["decoy_p"]
        if not data["arrangement"]:
            del data["arrangement"]
        return data


__all__ = [
    "ARRANGEMENT_NEGATIVES",
    "Arrangement",
    "ClassDef",
    "Context",
    "Cooccurrence",
    "DEFAULT_SPEC_PATH",
    "Exclusive",
    "Layout",
    "RenderParams",
    "SceneSpec",
    "SpecError",
    "WRONG_ARRANGEMENTS",
]
