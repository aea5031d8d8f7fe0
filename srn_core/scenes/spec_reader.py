"""Reading a relation spec: JSON or YAML into a validated `SceneSpec` (field by field, then the checks of
`spec_checks`); anything the generator could not obey (unknown labels, bad probabilities, offsets that do
not fit in the image or make objects overlap, ambiguous shared glyphs) raises `SpecError`."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

import yaml

from .glyphs import GLYPH_NAMES
from .spec import (
    ARRANGEMENT_NEGATIVES,
    DEFAULT_SPEC_PATH,
    Arrangement,
    ClassDef,
    Context,
    Cooccurrence,
    Exclusive,
    Layout,
    RenderParams,
    SceneSpec,
    SpecError,
)
from .spec_checks import check_relations


def _read_file(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise SpecError("file", f"unknown spec format {suffix!r}: use .json, .yaml or .yml", str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("file", f"cannot read spec: {getattr(exc, 'strerror', None) or exc}", str(path)) from exc
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}", str(path)) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        raise SpecError(where, f"invalid YAML: {getattr(exc, 'problem', None) or exc}", str(path)) from exc


def load_spec(source: SceneSpec | Mapping[str, Any] | str | Path | None = None) -> SceneSpec:
    """A validated spec from a file path (JSON/YAML), a mapping, a spec, or None (the shipped default)."""
    if isinstance(source, SceneSpec):
        return source
    if isinstance(source, Mapping):
        return parse_spec(source)
    path = Path(source) if source is not None else DEFAULT_SPEC_PATH
    return parse_spec(_read_file(path), str(path))


_TOP_KEYS = {
    "image_size",
    "render",
    "classes",
    "cooccurrence",
    "exclusive",
    "layout",
    "context",
    "arrangement",
    "controls",
    "description",
}
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


class _Reader:
    """Pulls typed fields out of raw spec data; every failure is a SpecError at the field's path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, reason: str) -> NoReturn:
        raise SpecError(where, reason, self.source)

    def obj(self, value: Any, where: str, required: set[str], optional: set[str]) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(where, f"expected an object, got {type(value).__name__}")
        unknown = sorted(set(value) - required - optional)
        if unknown:
            self.fail(f"{where}.{unknown[0]}", f"unknown field (allowed: {', '.join(sorted(required | optional))})")
        missing = sorted(required - set(value))
        if missing:
            self.fail(f"{where}.{missing[0]}", "missing required field")
        return dict(value)

    def items(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(where, f"expected a list, got {type(value).__name__}")
        return value

    def num(self, value: Any, where: str, lo: float, hi: float, integer: bool = False) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or (integer and value != int(value))
        ):
            self.fail(where, f"expected {'an integer' if integer else 'a number'}, got {value!r}")
        if not lo <= value <= hi:
            self.fail(where, f"{value!r} is outside [{lo}, {hi}]")
        return int(value) if integer else float(value)

    def pair(
        self, value: Any, where: str, lo: float, hi: float, integer: bool = False, ordered: bool = True
    ) -> tuple[Any, Any]:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            self.fail(where, f"expected a list of two numbers, got {value!r}")
        a, b = (self.num(v, f"{where}[{i}]", lo, hi, integer) for i, v in enumerate(value))
        if ordered and a > b:
            self.fail(where, f"range {value!r} has min > max")
        return a, b

    def name(self, value: Any, where: str, known: Mapping[str, Any] | None = None) -> str:
        if not isinstance(value, str) or not value or not set(value) <= _NAME_CHARS:
            self.fail(where, f"expected a name of letters, digits, '_', '-' or '.', got {value!r}")
        if known is not None and value not in known:
            self.fail(where, f"unknown label {value!r} (known: {', '.join(known)})")
        return value


def _render(r: _Reader, raw: Any, size: int) -> RenderParams:
    d = {**asdict(RenderParams()), **r.obj(raw, "render", set(), set(RenderParams.__dataclass_fields__))}
    return RenderParams(
        object_size=r.pair(d["object_size"], "render.object_size", 8, size // 2, integer=True),
        rotation_deg=r.num(d["rotation_deg"], "render.rotation_deg", 0, 180),
        stroke=r.pair(d["stroke"], "render.stroke", 1, 16, integer=True),
        distractors=r.pair(d["distractors"], "render.distractors", 0, 50, integer=True),
        clutter=r.pair(d["clutter"], "render.clutter", 0, 200, integer=True),
        occlusion_p=r.num(d["occlusion_p"], "render.occlusion_p", 0, 1),
        noise_sigma=r.pair(d["noise_sigma"], "render.noise_sigma", 0, 64),
    )


def _classes(r: _Reader, raw: Any) -> tuple[ClassDef, ...]:
    out: dict[str, ClassDef] = {}
    for i, item in enumerate(r.items(raw, "classes")):
        d = r.obj(item, f"classes[{i}]", {"name"}, {"glyph", "prior", "region", "faint"})
        name = r.name(d["name"], f"classes[{i}].name")
        if name in out:
            r.fail(f"classes[{i}].name", f"duplicate class {name!r}")
        glyph = d.get("glyph")
        if glyph is not None and glyph not in GLYPH_NAMES:
            r.fail(f"classes[{i}].glyph", f"unknown glyph {glyph!r} (known: {', '.join(GLYPH_NAMES)})")
        prior = r.num(d["prior"], f"classes[{i}].prior", 0, 1) if "prior" in d else None
        region = _region(r, d["region"], f"classes[{i}].region") if "region" in d else None
        faint = d.get("faint", False)
        if not isinstance(faint, bool):
            r.fail(f"classes[{i}].faint", f"expected true or false, got {faint!r}")
        out[name] = ClassDef(name, glyph, prior, region, faint)
    if not out:
        r.fail("classes", "needs at least one class")
    return tuple(out.values())


def _region(r: _Reader, value: Any, where: str) -> tuple[float, float, float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        r.fail(where, f"expected [x0, y0, x1, y1] as fractions of the image, got {value!r}")
    x0, y0, x1, y1 = (r.num(v, f"{where}[{i}]", 0, 1) for i, v in enumerate(value))
    if x0 >= x1 or y0 >= y1:
        r.fail(where, f"{list(value)} is empty: need x0 < x1 and y0 < y1")
    return x0, y0, x1, y1


def _offset(r: _Reader, d: dict[str, Any], where: str, size: int) -> tuple[tuple[float, float], float]:
    offset = r.pair(d["offset"], f"{where}.offset", -size, size, ordered=False)
    return offset, r.num(d.get("jitter", 0), f"{where}.jitter", 0, size / 4)


def _rules(r: _Reader, top: dict[str, Any], names: dict[str, ClassDef], size: int) -> dict[str, tuple[Any, ...]]:
    sections: dict[str, list[Any]] = {k: [] for k in ("cooccurrence", "exclusive", "layout", "context", "arrangement")}
    for i, item in enumerate(r.items(top.get("cooccurrence", []), "cooccurrence")):
        w = f"cooccurrence[{i}]"
        d = r.obj(item, w, {"given", "then", "p"}, {"id"})
        given, then = r.name(d["given"], f"{w}.given", names), r.name(d["then"], f"{w}.then", names)
        rid = d.get("id", f"cooc:{given}->{then}")
        sections["cooccurrence"].append(Cooccurrence(rid, given, then, r.num(d["p"], f"{w}.p", 0, 1)))
    for i, item in enumerate(r.items(top.get("exclusive", []), "exclusive")):
        w = f"exclusive[{i}]"
        d = r.obj({"labels": item} if isinstance(item, list) else item, w, {"labels"}, {"id"})
        if not isinstance(d["labels"], list) or len(d["labels"]) != 2:
            r.fail(f"{w}.labels", f"expected two labels, got {d['labels']!r}")
        a, b = (r.name(v, f"{w}.labels[{j}]", names) for j, v in enumerate(d["labels"]))
        sections["exclusive"].append(Exclusive(d.get("id", f"excl:{a}|{b}"), (a, b)))
    for i, item in enumerate(r.items(top.get("layout", []), "layout")):
        w = f"layout[{i}]"
        d = r.obj(item, w, {"anchor", "other", "offset"}, {"id", "jitter"})
        anchor, other = r.name(d["anchor"], f"{w}.anchor", names), r.name(d["other"], f"{w}.other", names)
        offset, jitter = _offset(r, d, w, size)
        sections["layout"].append(Layout(d.get("id", f"layout:{anchor}->{other}"), anchor, other, offset, jitter))
    for i, item in enumerate(r.items(top.get("context", []), "context")):
        w = f"context[{i}]"
        d = r.obj(item, w, {"label", "beside", "offset", "p"}, {"id", "jitter", "decoy_p"})
        label, beside = r.name(d["label"], f"{w}.label", names), r.name(d["beside"], f"{w}.beside", names)
        offset, jitter = _offset(r, d, w, size)
        sections["context"].append(
            Context(
                d.get("id", f"context:{label}@{beside}"),
                label,
                beside,
                offset,
                jitter,
                r.num(d["p"], f"{w}.p", 0, 1),
                r.num(d.get("decoy_p", 0), f"{w}.decoy_p", 0, 1),
            )
        )
    for i, item in enumerate(r.items(top.get("arrangement", []), "arrangement")):
        w = f"arrangement[{i}]"
        d = r.obj(item, w, {"label", "anchor", "other", "offset", "p"}, {"id", "jitter", "negatives"})
        label = r.name(d["label"], f"{w}.label", names)
        anchor, other = r.name(d["anchor"], f"{w}.anchor", names), r.name(d["other"], f"{w}.other", names)
        offset, jitter = _offset(r, d, w, size)
        negatives = d.get("negatives", "mirror")
        if negatives not in ARRANGEMENT_NEGATIVES:
            r.fail(f"{w}.negatives", f"expected one of {', '.join(ARRANGEMENT_NEGATIVES)}, got {negatives!r}")
        sections["arrangement"].append(
            Arrangement(
                d.get("id", f"arrangement:{label}"),
                label,
                anchor,
                other,
                offset,
                jitter,
                r.num(d["p"], f"{w}.p", 0, 1),
                negatives,
            )
        )
    return {k: tuple(v) for k, v in sections.items()}


def parse_spec(data: Any, source: str = "<spec>") -> SceneSpec:
    """Validate raw spec data (as read from JSON/YAML) into a `SceneSpec`, or raise `SpecError`."""
    r = _Reader(source)
    top = r.obj(data, "spec", {"classes"}, _TOP_KEYS)
    size = r.num(top.get("image_size", 224), "image_size", 64, 4096, integer=True)
    render = _render(r, top.get("render", {}), size)
    classes = _classes(r, top["classes"])
    names = {c.name: c for c in classes}
    controls = tuple(
        r.name(v, f"controls[{i}]", names) for i, v in enumerate(r.items(top.get("controls", []), "controls"))
    )
    description = top.get("description", "")
    if not isinstance(description, str):
        r.fail("description", "expected a string")
    spec = SceneSpec(
        size, classes, controls=controls, render=render, description=description, **_rules(r, top, names, size)
    )
    check_relations(spec, r.fail)
    return spec


def default_spec() -> SceneSpec:
    """The shipped default spec (srn_core/scenes/default_spec.json)."""
    return load_spec(DEFAULT_SPEC_PATH)


__all__ = ["default_spec", "load_spec", "parse_spec"]
