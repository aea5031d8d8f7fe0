"""Scenes that obey a relation spec: sample labels, lay objects out, render, and record ground truth.

Image `index` of a run with `seed` is a pure function of (spec, seed, index): its random stream is
`SeedSequence([seed, index])`, so images can be made in any order or in parallel, and datasets made
with different seeds never share images. Labels and layout use one child stream and pixels another,
so changing only the render settings keeps every image's labels, boxes and rules.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from ..datasets import Box, MultiLabelDataset, Sample, write_manifest
from ..fileio import atomic_write_text
from .glyphs import Placed, draw_glyph, place_glyph
from .render import EDGE, add_clutter, add_distractors, add_noise, background, draw_faint, object_colour, occlude
from .spec import Arrangement, Context, Layout, SceneSpec
from .spec_reader import load_spec

SpecLike = SceneSpec | Mapping[str, Any] | str | Path | None
_PNG_FLAGS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]


@dataclass(frozen=True)
class SceneObject:
    """One labelled object as drawn: its label, glyph outline and box, and its fill colour."""

    label: str
    placed: Placed
    colour: tuple[int, int, int]


def sample_labels(spec: SceneSpec, rng: np.random.Generator) -> tuple[set[str], set[str]]:
    """Draw which labels are present, applying exclusions, then co-occurrence, then context rules.

    Returns (present labels, ids of the rules that fired). An exclusive rule fires when it removed a
    label; a co-occurrence rule when it added `then`; a context rule when it added its label.
    """
    present = {c.name for c in spec.classes if c.prior is not None and rng.random() < c.prior}
    fired = set()
    for rule in spec.exclusive:
        if set(rule.labels) <= present:
            present.discard(rule.labels[int(rng.integers(2))])
            fired.add(rule.id)
    for rule in spec.cooccurrence_order:
        if rule.given in present:
            if rng.random() < rule.p:
                present.add(rule.then)
                fired.add(rule.id)
            else:
                present.discard(rule.then)
    for rule in spec.context:
        if rule.beside in present and rng.random() < rule.p:
            present.add(rule.label)
            fired.add(rule.id)
    for rule in spec.arrangement:
        if rng.random() < rule.p:
            present |= {rule.anchor, rule.other}
        if {rule.anchor, rule.other} <= present and rng.random() < 0.5:
            present.add(rule.label)
            fired.add(rule.id)
    return present, fired


def _group_root(spec: SceneSpec, name: str, present: set[str]) -> str:
    while name in spec.placement_parent and spec.placement_parent[name].anchor_label in present:
        name = spec.placement_parent[name].anchor_label
    return name


def _overlap_area(box: tuple[float, ...], others: list[tuple[float, ...]]) -> float:
    return sum(
        max(0.0, min(box[2], o[2]) - max(box[0], o[0])) * max(0.0, min(box[3], o[3]) - max(box[1], o[1]))
        for o in others
    )


def _placed_offset(rule: Layout | Context | Arrangement, present: set[str], rng: np.random.Generator) -> np.ndarray:
    """Where a rule puts its placed object relative to its anchor, before jitter: the planted offset, or
    for an arrangement whose label is absent one of its wrong offsets, drawn uniformly."""
    if not isinstance(rule, Arrangement) or rule.label in present:
        return np.asarray(rule.offset, dtype=float)
    wrong = rule.wrong_offsets()
    # A single choice ("mirror") draws nothing, so scenes of specs written before "elsewhere" stay identical.
    return np.asarray(wrong[int(rng.integers(len(wrong)))] if len(wrong) > 1 else wrong[0], dtype=float)


def place_objects(spec: SceneSpec, present: set[str], rng: np.random.Generator) -> tuple[list[SceneObject], set[str]]:
    """Lay out the present objects; pairs under a layout/context rule keep their offset (+- jitter).

    Objects joined by rules form a group placed as one, uniformly where it fits (a position label's
    object: where its box centre lies in its region), preferring spots that overlap nothing already
    placed. An arrangement's `other` sits at +offset when its label is present, else at a wrong offset.
    Strokes are at most size/7 (but >= the minimum stroke) so small letters stay legible. Returns the
    objects and the ids of layout rules that fired.
    """
    rp, size = spec.render, spec.image_size
    names = [c.name for c in spec.classes if c.name in present and c.glyph is not None]
    style = {}
    for n in names:
        size_px = int(rng.integers(rp.object_size[0], rp.object_size[1] + 1))
        angle = rng.uniform(-1, 1) * rp.rotation_deg
        stroke = min(int(rng.integers(rp.stroke[0], rp.stroke[1] + 1)), max(rp.stroke[0], round(size_px / 7)))
        style[n] = (size_px, angle, stroke, object_colour(rng))
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(_group_root(spec, n, present), []).append(n)
    fired: set[str] = set()
    rel: dict[str, np.ndarray] = {}
    for root, members in groups.items():
        rel[root] = np.zeros(2)
        pending = [m for m in members if m != root]
        while pending:
            for m in [m for m in pending if spec.placement_parent[m].anchor_label in rel]:
                rule = spec.placement_parent[m]
                rel[m] = (
                    rel[rule.anchor_label]
                    + _placed_offset(rule, present, rng)
                    + rng.uniform(-rule.jitter, rule.jitter, 2)
                )
                if isinstance(rule, Layout):
                    fired.add(rule.id)
                pending.remove(m)
    objects: list[SceneObject] = []
    taken: list[tuple[float, ...]] = []
    for root, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        local = {m: place_glyph(spec.class_by_name[m].glyph, tuple(rel[m]), *style[m][:3]) for m in members}
        lo = np.min([p.box[:2] for p in local.values()], axis=0)
        hi = np.max([p.box[2:] for p in local.values()], axis=0)
        low, high = 1 - lo, np.maximum(size - 1 - hi, 1 - lo)
        region = spec.class_by_name[root].region
        if region is not None:
            low = np.maximum(low, np.asarray(region[:2]) * size)
            high = np.maximum(np.minimum(high, np.asarray(region[2:]) * size), low)
        best, best_cost = None, np.inf
        for _ in range(30):
            shift = rng.uniform(low, high)
            cost = sum(_overlap_area(np.r_[p.box[:2] + shift, p.box[2:] + shift], taken) for p in local.values())
            if cost < best_cost:
                best, best_cost = shift, cost
            if cost == 0:
                break
        for m in members:
            placed = place_glyph(spec.class_by_name[m].glyph, tuple(rel[m] + best), *style[m][:3])
            objects.append(SceneObject(m, placed, style[m][3]))
            taken.append(placed.box)
    order = {n: i for i, n in enumerate(spec.label_names)}
    return sorted(objects, key=lambda o: order[o.label]), fired


def add_decoys(img: Image.Image, spec: SceneSpec, rng: np.random.Generator, objects: list[SceneObject]) -> None:
    """Unlabelled copies of a context label's glyph (rules with `decoy_p`), never at the planted offset.

    A decoy keeps at least 2 grid cells (32 px at 224) from every spot where the rule would put
    its label, so only the partner at the offset tells a labelled object from a decoy.
    """
    rp, size = spec.render, spec.image_size
    taken = [o.placed.box for o in objects]
    for rule in spec.context:
        if rule.decoy_p <= 0 or rng.random() >= rule.decoy_p:
            continue
        planted = [np.add(_centre(o.placed.box), rule.offset) for o in objects if o.label == rule.beside]
        size_px = int(rng.integers(rp.object_size[0], rp.object_size[1] + 1))
        stroke = min(int(rng.integers(rp.stroke[0], rp.stroke[1] + 1)), max(rp.stroke[0], round(size_px / 7)))
        for _ in range(30):
            centre = rng.uniform(size_px / 2 + 1, size - size_px / 2 - 1, 2)
            placed = place_glyph(
                spec.class_by_name[rule.label].glyph,
                tuple(centre),
                size_px,
                rng.uniform(-1, 1) * rp.rotation_deg,
                stroke,
            )
            far = all(np.hypot(*(centre - p)) >= 2 * size / 14 for p in planted)
            if far and _overlap_area(placed.box, taken) == 0:
                colour = object_colour(rng)
                if spec.class_by_name[rule.label].faint:
                    draw_faint(img, placed, colour)
                else:
                    draw_glyph(ImageDraw.Draw(img), placed, colour, EDGE)
                taken.append(placed.box)
                break


def _centre(box: tuple[float, ...]) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def render_scene(spec: SpecLike = None, seed: int = 0, index: int = 0) -> tuple[Image.Image, Sample]:
    """Render image `index` of the run `seed`: the RGB image and its ground truth.

    The Sample's path is `images/<index>.png` (relative); `extra` holds `rules` (ids of the rules
    that fired, in spec order), `seed` and `index`.
    """
    spec = load_spec(spec)
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be >= 0, got seed={seed}, index={index}")
    layout_seq, pixel_seq = np.random.SeedSequence([seed, index]).spawn(2)
    rng, prng = np.random.default_rng(layout_seq), np.random.default_rng(pixel_seq)
    present, fired = sample_labels(spec, rng)
    objects, layout_fired = place_objects(spec, present, rng)
    rp = spec.render
    bg = background(prng, spec.image_size)
    img = Image.fromarray(bg)
    add_clutter(img, bg, prng, int(prng.integers(rp.clutter[0], rp.clutter[1] + 1)))
    add_distractors(img, prng, rp, [o.placed.box for o in objects])
    add_decoys(img, spec, prng, objects)
    draw = ImageDraw.Draw(img)
    for obj in objects:
        if spec.class_by_name[obj.label].faint:
            draw_faint(img, obj.placed, obj.colour)
        else:
            draw_glyph(draw, obj.placed, obj.colour, EDGE)
    for obj in objects:
        if prng.random() < rp.occlusion_p:
            occlude(img, bg, prng, obj.placed.box)
    img = add_noise(img, prng, rp.noise_sigma)
    rules = [r for r in spec.rule_ids() if r in fired | layout_fired]
    targets = np.array([n in present for n in spec.label_names], dtype=np.int8)
    boxes = [Box(o.label, *(round(float(v), 2) for v in o.placed.box)) for o in objects]
    by_label = {o.label: o.placed.box for o in objects}
    for rule in spec.arrangement:
        if rule.label in present:
            a, b = by_label[rule.anchor], by_label[rule.other]
            union = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
            boxes.append(Box(rule.label, *(round(float(v), 2) for v in union)))
    sample = Sample(Path(f"images/{index:06d}.png"), targets, boxes, {"rules": rules, "seed": seed, "index": index})
    return img, sample


def iter_scenes(
    spec: SpecLike = None, seed: int = 0, start: int = 0, stop: int | None = None
) -> Iterator[tuple[Image.Image, Sample]]:
    """Stream scenes start, start+1, ... (forever unless `stop`), for on-the-fly training; no torch needed."""
    spec = load_spec(spec)
    index = start
    while stop is None or index < stop:
        yield render_scene(spec, seed, index)
        index += 1


def _make_one(spec: SceneSpec, seed: int, out_dir: Path, index: int) -> Sample:
    """Render one scene and save it as a PNG under `out_dir` (atomically); its Sample's path is absolute."""
    img, sample = render_scene(spec, seed, index)
    sample.path = out_dir / sample.path
    save_png(img, sample.path)
    return sample


def save_png(img: Image.Image, path: Path) -> None:
    """Save losslessly as PNG, renamed into place so no half-written image is ever seen.

    OpenCV's fast Huffman-only PNG is ~2x faster and ~15% smaller than PIL's on these noisy
    scenes. No fsync: images are cheap to regenerate from their seed.
    """
    ok, data = cv2.imencode(".png", np.asarray(img)[:, :, ::-1], _PNG_FLAGS)
    if not ok:
        raise OSError(f"{path}: PNG encoding failed")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data.tobytes())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _pool_context() -> multiprocessing.context.BaseContext:
    """Fork where the OS has it: workers share the parent's imports (importing `srn_core` loads torch,
    ~1 GB and seconds per spawned worker) and only render with numpy/PIL/OpenCV, never torch."""
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


def generate_dataset(
    out_dir: str | Path, n: int, seed: int = 0, spec: SpecLike = None, workers: int = 1, progress: bool = True
) -> MultiLabelDataset:
    """Render `n` scenes into `out_dir`/images/*.png and write `out_dir`/manifest.json and spec.json.

    Every file is written atomically; the manifest comes last, so a finished manifest means a
    complete dataset. `workers` > 1 renders in that many processes with identical results.
    """
    spec = load_spec(spec)
    if n < 0 or seed < 0 or workers < 1:
        raise ValueError(f"need n >= 0, seed >= 0 and workers >= 1, got n={n}, seed={seed}, workers={workers}")
    out = Path(os.path.abspath(out_dir))
    (out / "images").mkdir(parents=True, exist_ok=True)
    make = partial(_make_one, spec, seed, out)
    samples: list[Sample] = []
    pool_cm = _pool_context().Pool(workers) if workers > 1 else nullcontext()
    with tqdm(total=n, desc="scenes", unit="img", disable=not progress) as bar, pool_cm as pool:
        for sample in pool.imap(make, range(n), chunksize=16) if pool else map(make, range(n)):
            samples.append(sample)
            bar.update()
    dataset = MultiLabelDataset(spec.label_names, samples)
    atomic_write_text(out / "spec.json", json.dumps(spec.to_dict(), indent=2) + "\n")
    write_manifest(out / "manifest.json", dataset)
    return dataset
