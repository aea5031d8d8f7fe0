"""Cross-rule checks of a parsed spec: things each field alone cannot tell (ambiguity, cycles, fit).

Each check calls `fail(field, reason)` (which raises) at the first problem, naming the field as
`section[index].key` so the user can find it in the spec file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

if TYPE_CHECKING:
    from .spec import Context, Cooccurrence, Layout, SceneSpec

    Placement = Layout | Context

Fail = Callable[[str, str], NoReturn]


def _check_ids(fail: Fail, spec: SceneSpec) -> None:
    seen: dict[str, str] = {}
    for section in ("cooccurrence", "exclusive", "layout", "context", "arrangement"):
        for i, rule in enumerate(getattr(spec, section)):
            if not isinstance(rule.id, str) or not rule.id:
                fail(f"{section}[{i}].id", f"expected a non-empty string, got {rule.id!r}")
            if rule.id in seen:
                fail(f"{section}[{i}].id", f"duplicate rule id {rule.id!r} (also {seen[rule.id]})")
            seen[rule.id] = f"{section}[{i}]"


def _check_context(fail: Fail, spec: SceneSpec) -> None:
    """Context labels: no prior, exactly one context rule, no other rule; shared glyphs need context
    (or position labels with disjoint regions)."""
    arrangement_labels = {a.label for a in spec.arrangement}
    context_labels = {c.name for c in spec.classes if c.prior is None} - arrangement_labels
    rule_of: dict[str, Context] = {}
    for i, c in enumerate(spec.context):
        if c.label not in context_labels:
            fail(
                f"context[{i}].label",
                f"class {c.label!r} has a prior, but a context label's presence comes "
                "from its rule: remove its 'prior'",
            )
        if c.label in rule_of:
            fail(f"context[{i}].label", f"{c.label!r} already has a context rule ({rule_of[c.label].id})")
        if c.beside in context_labels:
            fail(f"context[{i}].beside", f"{c.beside!r} is itself a context label")
        rule_of[c.label] = c
    uses = [
        (f"cooccurrence[{i}].{k}", getattr(x, k)) for i, x in enumerate(spec.cooccurrence) for k in ("given", "then")
    ]
    uses += [(f"exclusive[{i}].labels[{k}]", v) for i, x in enumerate(spec.exclusive) for k, v in enumerate(x.labels)]
    uses += [(f"layout[{i}].{k}", getattr(x, k)) for i, x in enumerate(spec.layout) for k in ("anchor", "other")]
    uses += [
        (f"arrangement[{i}].{k}", getattr(x, k)) for i, x in enumerate(spec.arrangement) for k in ("anchor", "other")
    ]
    for where, label in uses:
        if label in context_labels:
            fail(where, f"{label!r} is a context label; it may only appear in its own context rule")
    related = {label for _, label in uses} | {c.beside for c in spec.context} | context_labels | arrangement_labels
    for i, name in enumerate(spec.controls):
        if name in related:
            fail(f"controls[{i}]", f"{name!r} takes part in a rule; a control must have no relation")
        if name in spec.controls[:i]:
            fail(f"controls[{i}]", f"duplicate control {name!r}")
    by_glyph: dict[str, list[int]] = {}
    for j, c in enumerate(spec.classes):
        if c.prior is None and c.name not in rule_of and c.name not in arrangement_labels:
            fail(
                f"classes[{j}].prior", "missing: only context and arrangement labels (named in their rule) may omit it"
            )
        if c.glyph is not None:
            by_glyph.setdefault(c.glyph, []).append(j)
    for glyph, members in by_glyph.items():
        names = [spec.classes[j].name for j in members]
        if len(members) > 1 and all(spec.classes[j].region is not None for j in members):
            _check_disjoint(fail, spec, members)
            continue
        for j in members:
            if len(members) > 1 and spec.classes[j].name not in rule_of:
                fail(
                    f"classes[{j}].glyph",
                    f"glyph {glyph!r} is shared by {names}; only context labels, each "
                    "beside a different object, may share a glyph",
                )
        besides = [rule_of[n].beside for n in names if n in rule_of]
        if len(members) > 1 and len(set(besides)) < len(besides):
            fail(
                "context",
                f"labels {names} share glyph {glyph!r} and sit beside the same object; nothing would tell them apart",
            )


def _check_disjoint(fail: Fail, spec: SceneSpec, members: list[int]) -> None:
    """Position labels sharing a glyph need regions that do not overlap (else nothing tells them apart)."""
    for a, i in enumerate(members):
        for j in members[a + 1 :]:
            ri, rj = spec.classes[i].region, spec.classes[j].region
            if ri[0] < rj[2] and rj[0] < ri[2] and ri[1] < rj[3] and rj[1] < ri[3]:
                fail(
                    f"classes[{j}].region",
                    f"overlaps the region of {spec.classes[i].name!r}, which shares its "
                    "glyph: position labels need disjoint regions",
                )


def _check_special(fail: Fail, spec: SceneSpec) -> None:
    """Arrangement labels have no glyph and no prior; position labels take part in no placement rule."""
    arrangement_of = {a.label: i for i, a in enumerate(spec.arrangement)}
    half = spec.render.object_size[1] / 2 / spec.image_size
    for j, c in enumerate(spec.classes):
        if c.glyph is None and c.name not in arrangement_of:
            fail(f"classes[{j}].glyph", "missing: only arrangement labels (named in an 'arrangement' rule) may omit it")
        if c.region is not None and (
            c.region[2] < half or c.region[0] > 1 - half or c.region[3] < half or c.region[1] > 1 - half
        ):
            fail(f"classes[{j}].region", f"{list(c.region)} leaves no room for an object's centre")
    placed: dict[str, list[str]] = {}
    for section in ("layout", "context", "arrangement"):
        for i, x in enumerate(getattr(spec, section)):
            for name in (x.anchor_label, x.placed_label):
                placed.setdefault(name, []).append(f"{section}[{i}]")
    for j, c in enumerate(spec.classes):
        if c.region is not None and c.name in placed:
            fail(
                f"classes[{j}].region",
                f"{c.name!r} is placed by {placed[c.name][0]}; a position label is placed only by its region",
            )
    seen: set[str] = set()
    for i, a in enumerate(spec.arrangement):
        w = f"arrangement[{i}]"
        cls = spec.class_by_name[a.label]
        if cls.glyph is not None or cls.prior is not None:
            fail(
                f"{w}.label", f"{a.label!r} names an arrangement, not an object: its class needs no glyph and no prior"
            )
        if a.label in seen:
            fail(f"{w}.label", f"{a.label!r} already has an arrangement rule")
        seen.add(a.label)
        for key in ("anchor", "other"):
            name = getattr(a, key)
            if spec.class_by_name[name].glyph is None:
                fail(f"{w}.{key}", f"{name!r} has no glyph; an arrangement relates two drawn objects")
            if len(placed[name]) > 1:
                fail(
                    f"{w}.{key}",
                    f"{name!r} is also placed by {[x for x in placed[name] if x != w][0]}; the objects "
                    "of an arrangement take part in no other placement rule",
                )
    rule_labels = [(f"cooccurrence[{i}]", x.given, x.then) for i, x in enumerate(spec.cooccurrence)]
    rule_labels += [(f"exclusive[{i}]", *x.labels) for i, x in enumerate(spec.exclusive)]
    rule_labels += [(f"layout[{i}]", x.anchor, x.other) for i, x in enumerate(spec.layout)]
    rule_labels += [(f"context[{i}]", x.label, x.beside) for i, x in enumerate(spec.context)]
    for where, *labels in rule_labels:
        for label in labels:
            if label in arrangement_of:
                fail(where, f"{label!r} is an arrangement label; it may only appear in its own arrangement rule")


def _check_cooccurrence(fail: Fail, spec: SceneSpec) -> None:
    """Each label is the 'then' of at most one rule, never exclusive, and rules form no cycle."""
    in_exclusive: dict[str, str] = {}
    for i, x in enumerate(spec.exclusive):
        if x.labels[0] == x.labels[1]:
            fail(f"exclusive[{i}].labels", "the two labels must differ")
        for v in x.labels:
            in_exclusive.setdefault(v, f"exclusive[{i}]")
    by_then: dict[str, Cooccurrence] = {}
    for i, x in enumerate(spec.cooccurrence):
        w = f"cooccurrence[{i}]"
        if x.given == x.then:
            fail(f"{w}.then", "a label cannot be conditioned on itself")
        if x.then in by_then:
            fail(
                f"{w}.then",
                f"{x.then!r} is already the 'then' of rule {by_then[x.then].id!r}; "
                "P(then | given) = p could not hold for both",
            )
        if x.then in in_exclusive:
            fail(f"{w}.then", f"{x.then!r} is in {in_exclusive[x.then]}; dropping it would break P(then | given) = p")
        by_then[x.then] = x
    for i, x in enumerate(spec.cooccurrence):
        seen, cur = {x.then}, x.given
        while cur in by_then:
            if cur in seen:
                fail(f"cooccurrence[{i}]", f"co-occurrence rules form a cycle through {cur!r}")
            seen.add(cur)
            cur = by_then[cur].given


def _check_placement(fail: Fail, spec: SceneSpec) -> None:
    """Offsets must keep objects apart and every group of chained offsets must fit in the image."""
    size, smax = spec.image_size, spec.render.object_size[1]
    parent: dict[str, tuple[str, Placement, str]] = {}
    for section in ("layout", "context", "arrangement"):
        for i, x in enumerate(getattr(spec, section)):
            w = f"{section}[{i}]"
            anchor, child = x.anchor_label, x.placed_label
            if anchor == child:
                fail(w, "an object cannot be placed relative to itself")
            if child in parent:
                fail(w, f"{child!r} is already placed by {parent[child][2]}; an object has one anchor")
            if max(abs(x.offset[0]), abs(x.offset[1])) - x.jitter < smax:
                fail(
                    f"{w}.offset",
                    f"{list(x.offset)} with jitter {x.jitter:g} lets objects of up to {smax} px "
                    f"overlap: need max(|dx|, |dy|) - jitter >= {smax}",
                )
            for axis, d in zip("xy", x.offset):
                if abs(d) + 2 * x.jitter + smax > size:
                    fail(
                        f"{w}.offset",
                        f"|d{axis}| = {abs(d):g} cannot fit: the pair needs "
                        f"{abs(d) + 2 * x.jitter + smax:g} px but the image is {size} px",
                    )
            if section == "arrangement":
                reach = max(max(abs(a), abs(b)) for a, b in x.wrong_offsets())
                if reach + 2 * x.jitter + smax > size:
                    fail(
                        f"{w}.negatives",
                        f"{x.negatives!r} cannot fit: it puts {child!r} up to {reach:g} px from "
                        f"{anchor!r} along an axis, so the pair needs "
                        f"{reach + 2 * x.jitter + smax:g} px but the image is {size} px",
                    )
            parent[child] = (anchor, x, w)
    paths: dict[str, list[tuple[str, Placement]]] = {}
    for child in parent:
        path, cur = [], child
        while cur in parent:
            if any(cur == node for node, _ in path):
                fail(parent[child][2], f"placement rules form a cycle through {cur!r}")
            path.append((cur, parent[cur][1]))
            cur = parent[cur][0]
        paths[child] = path
        paths.setdefault(cur, [])
    _check_groups(fail, spec, paths, {c: w for c, (_, _, w) in parent.items()})


def _check_groups(fail: Fail, spec: SceneSpec, paths: dict[str, list[tuple[str, Any]]], where: dict[str, str]) -> None:
    """Each group (an object and everything placed from it) must fit and its members must not overlap.

    A failure names the rule that places the farthest (or the overlapping) member.
    """
    size, smax = spec.image_size, spec.render.object_size[1]
    groups: dict[str, list[str]] = {}
    for name, path in paths.items():
        groups.setdefault(path[-1][1].anchor_label if path else name, []).append(name)
    for root, members in groups.items():
        pos = {m: np.sum([x.offset for _, x in paths[m]], axis=0) if paths[m] else np.zeros(2) for m in members}
        jit = {m: sum(x.jitter for _, x in paths[m]) for m in members}
        for axis in (0, 1):
            need = max(pos[m][axis] + jit[m] for m in members) - min(pos[m][axis] - jit[m] for m in members) + smax
            if need > size:
                far = max((m for m in members if m != root), key=lambda m: abs(pos[m][axis]) + jit[m])
                fail(
                    where[far],
                    f"the group {sorted(members)} placed around {root!r} needs {need:g} px along "
                    f"{'xy'[axis]} but the image is {size} px",
                )
        for i, u in enumerate(members):
            for v in members[i + 1 :]:
                shared = {x.id for _, x in paths[u]} & {x.id for _, x in paths[v]}
                rel = sum(x.jitter for _, x in paths[u] + paths[v] if x.id not in shared)
                if np.max(np.abs(pos[u] - pos[v])) - rel < smax:
                    fail(
                        where[v if v != root else u],
                        f"{u!r} and {v!r} (both placed around {root!r}) can come closer than {smax} px and overlap",
                    )


def check_relations(spec: SceneSpec, fail: Fail) -> None:
    """Check the rules against each other and the image; call `fail(field, reason)` at the first problem."""
    _check_ids(fail, spec)
    _check_special(fail, spec)
    _check_context(fail, spec)
    _check_cooccurrence(fail, spec)
    _check_placement(fail, spec)
