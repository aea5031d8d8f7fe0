"""The synthetic scene generator: determinism, ground truth, planted relations, spec errors, I/O, CLI."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image, ImageDraw

from srn_core.datasets import read_manifest
from srn_core.scenes import (
    GLYPH_NAMES,
    SceneSpec,
    SpecError,
    default_spec,
    generate_dataset,
    iter_scenes,
    load_spec,
    render_scene,
)
from srn_core.scenes.glyphs import draw_glyph, place_glyph

REPO = Path(__file__).resolve().parents[1]
N_STATS = 300


@pytest.fixture(scope="module")
def spec() -> SceneSpec:
    return default_spec()


@pytest.fixture(scope="module")
def scenes(spec):
    """Ground truth of 300 default scenes (seed 11), as (present label set, {label: box centre}, sample)."""
    out = []
    for i in range(N_STATS):
        _, sample = render_scene(spec, 11, i)
        present = set(sample.positive_labels(spec.label_names))
        centres = {b.label: np.array([(b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2]) for b in sample.boxes}
        out.append((present, centres, sample))
    return out


def _pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"))


def test_same_seed_gives_identical_scene(spec):
    (a, sa), (b, sb) = render_scene(spec, 5, 3), render_scene(spec, 5, 3)
    assert a.size == (224, 224) and a.mode == "RGB"
    assert np.array_equal(_pixels(a), _pixels(b))
    assert np.array_equal(sa.targets, sb.targets)
    assert sa.boxes == sb.boxes and sa.extra == sb.extra


def test_other_seed_or_index_differs(spec):
    base = _pixels(render_scene(spec, 5, 3)[0])
    assert not np.array_equal(base, _pixels(render_scene(spec, 6, 3)[0]))
    assert not np.array_equal(base, _pixels(render_scene(spec, 5, 4)[0]))
    # seed + index must not alias: (5, 4) and (6, 3) are different scenes
    assert not np.array_equal(_pixels(render_scene(spec, 5, 4)[0]), _pixels(render_scene(spec, 6, 3)[0]))


def test_iter_scenes_matches_render_scene_in_any_order(spec):
    streamed = list(iter_scenes(spec, seed=2, start=4, stop=7))
    assert [s.extra["index"] for _, s in streamed] == [4, 5, 6]
    for img, sample in reversed(streamed):
        ref_img, ref = render_scene(spec, 2, sample.extra["index"])
        assert np.array_equal(_pixels(img), _pixels(ref_img)) and ref.boxes == sample.boxes


def test_render_settings_do_not_change_labels_or_layout(spec):
    data = spec.to_dict()
    data["render"]["noise_sigma"] = [0, 0]
    data["render"]["distractors"] = [0, 0]
    plain = load_spec(data)
    (img_a, a), (img_b, b) = render_scene(spec, 9, 1), render_scene(plain, 9, 1)
    assert np.array_equal(a.targets, b.targets) and a.boxes == b.boxes and a.extra == b.extra
    assert not np.array_equal(_pixels(img_a), _pixels(img_b))


def test_boxes_inside_image_one_per_present_label(spec, scenes):
    lo, hi = spec.render.object_size
    arrangements = {r.label for r in spec.arrangement}
    for present, _, sample in scenes:
        labels = [b.label for b in sample.boxes]
        assert sorted(labels) == sorted(present), "one box per present label, none for absent ones"
        for b in sample.boxes:
            assert 0 <= b.x0 < b.x1 <= 224 and 0 <= b.y0 < b.y1 <= 224
            if b.label not in arrangements:
                assert lo - 1 <= max(b.x1 - b.x0, b.y1 - b.y0) <= hi + 1
    assert np.mean([len(p) for p, _, _ in scenes]) > 2, "scenes should hold several objects"


@pytest.mark.parametrize("glyph", GLYPH_NAMES)
def test_glyph_box_is_tight_and_centred(glyph):
    for size, angle, stroke in [(28, -20, 3), (48, 20, 6), (37, 5, 4)]:
        img = Image.new("RGB", (100, 100))
        placed = place_glyph(glyph, (50.3, 49.6), size, angle, stroke)
        draw_glyph(ImageDraw.Draw(img), placed, (255, 255, 255), (90, 90, 90))
        ys, xs = np.nonzero(np.asarray(img).max(axis=2))
        drawn = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        assert np.all(np.abs(drawn - np.array(placed.box)) <= 1.5), (glyph, drawn, placed.box)
        box = placed.box
        assert max(box[2] - box[0], box[3] - box[1]) == pytest.approx(size)
        assert ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) == pytest.approx((50.3, 49.6))


def test_cooccurrence_probability(spec, scenes):
    for rule in spec.cooccurrence:
        with_given = [then in p for p, _, _ in scenes for then in [rule.then] if rule.given in p]
        without = [rule.then in p for p, _, _ in scenes if rule.given not in p]
        assert len(with_given) >= 40
        assert abs(np.mean(with_given) - rule.p) < 0.1, rule.id
        assert np.mean(without) < 0.5, f"{rule.id}: 'then' should be much rarer without 'given'"
        for p, _, s in scenes:
            assert (rule.id in s.extra["rules"]) == (rule.given in p and rule.then in p)


def test_exclusive_pair_never_together(spec, scenes):
    for rule in spec.exclusive:
        a, b = rule.labels
        assert not any(a in p and b in p for p, _, _ in scenes), rule.id
        assert any(a in p for p, _, _ in scenes) and any(b in p for p, _, _ in scenes)
        assert any(rule.id in s.extra["rules"] for _, _, s in scenes)


def test_layout_offsets_between_box_centres(spec, scenes):
    for rule in spec.layout:
        both = [(c, s) for p, c, s in scenes if rule.anchor in p and rule.other in p]
        assert len(both) >= 10, rule.id
        for centres, sample in both:
            delta = centres[rule.other] - centres[rule.anchor]
            assert np.all(np.abs(delta - np.array(rule.offset)) <= rule.jitter + 0.05), (rule.id, delta)
            assert rule.id in sample.extra["rules"]
        assert not any(rule.id in s.extra["rules"] for p, _, s in scenes if not {rule.anchor, rule.other} <= p)


def test_context_labels_share_a_glyph_and_sit_beside_their_object(spec, scenes):
    shared = [r for r in spec.context if r.decoy_p == 0]
    glyphs = {spec.class_by_name[r.label].glyph for r in shared}
    assert len(glyphs) == 1 and len(shared) >= 2, "the default context labels are one glyph"
    assert len({r.beside for r in spec.context}) == len(spec.context)
    for rule in spec.context:
        hits = [(c, s) for p, c, s in scenes if rule.label in p]
        assert len(hits) >= 10
        assert all(rule.beside in s.positive_labels(spec.label_names) for _, s in hits)
        for centres, sample in hits:
            delta = centres[rule.label] - centres[rule.beside]
            assert np.all(np.abs(delta - np.array(rule.offset)) <= rule.jitter + 0.05), rule.id
            assert rule.id in sample.extra["rules"]
        given = [rule.label in p for p, _, _ in scenes if rule.beside in p]
        assert abs(np.mean(given) - rule.p) < 0.15


def test_controls_are_independent_and_uniformly_placed(spec, scenes):
    names = spec.label_names
    t = np.array([s.targets for _, _, s in scenes], dtype=float)
    corr = np.corrcoef(t.T)
    idx = {n: i for i, n in enumerate(names)}
    planted = spec.cooccurrence[0]
    assert corr[idx[planted.given], idx[planted.then]] > 0.5, "the measure must see a planted relation"
    assert spec.controls
    for control in spec.controls:
        others = [corr[idx[control], j] for j in range(len(names)) if j != idx[control]]
        assert max(abs(v) for v in others) < 0.25, control
        centres = np.array([c[control] for p, c, _ in scenes if control in p])
        assert np.all(np.abs(centres.mean(axis=0) - 112) < 25)
        for axis in (0, 1):
            assert 0.25 < np.mean(centres[:, axis] < 112) < 0.75


def _default_dict() -> dict:
    return copy.deepcopy(default_spec().to_dict())


def _mutate(path: str, value):
    def apply(d):
        keys = path.split(".")
        target = d
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        target[int(last) if last.isdigit() else last] = value
        return d

    return apply


def _append(section: str, item):
    return lambda d: d[section].append(item) or d


BAD_SPECS = [
    ("unknown anchor", _mutate("layout.0.anchor", "sqare"), "layout[0].anchor", "unknown label 'sqare'"),
    ("probability above 1", _mutate("cooccurrence.0.p", 1.5), "cooccurrence[0].p", "outside"),
    ("prior not a number", _mutate("classes.0.prior", "high"), "classes[0].prior", "expected a number"),
    ("offset cannot fit", _mutate("layout.0.offset", [0, -200]), "layout[0].offset", "cannot fit"),
    ("offset overlaps", _mutate("layout.0.offset", [10, 20]), "layout[0].offset", "overlap"),
    ("unknown glyph", _mutate("classes.0.glyph", "dragon"), "classes[0].glyph", "unknown glyph"),
    ("ambiguous shared glyph", _mutate("classes.21.glyph", "hash"), "classes[21].glyph", "shared by"),
    ("context label with prior", _mutate("classes.8.prior", 0.3), "context[0].label", "remove its 'prior'"),
    ("unknown top-level field", lambda d: d.update(layuot=[]) or d, "spec.layuot", "unknown field"),
    (
        "co-occurrence cycle",
        _append("cooccurrence", {"given": "square", "then": "triangle", "p": 0.5}),
        "cooccurrence[",
        "cycle",
    ),
    (
        "exclusive co-occurrence target",
        _append("exclusive", ["square", "ring"]),
        "cooccurrence[0].then",
        "exclusive[1]",
    ),
    ("duplicate rule id", _mutate("context.0.id", "layout_triangle_above_square"), "context[0].id", "duplicate"),
    (
        "placement cycle",
        _append("layout", {"anchor": "triangle", "other": "square", "offset": [0, 60]}),
        "layout[",
        "cycle",
    ),
    (
        "group too wide",
        lambda d: (
            d.update(controls=[])
            or d["layout"].extend(
                [
                    {"anchor": "cross", "other": "letter_E", "offset": [90, 0]},
                    {"anchor": "letter_E", "other": "bowtie", "offset": [90, 0]},
                ]
            )
            or d
        ),
        "layout[",
        "needs",
    ),
    ("control with a relation", _mutate("controls", ["square"]), "controls[0]", "takes part in a rule"),
    ("bad object size range", _mutate("render.object_size", [48, 28]), "render.object_size", "min > max"),
    (
        "overlapping position regions",
        _mutate("classes.11.region", [0, 0.2, 1, 1]),
        "classes[11].region",
        "disjoint regions",
    ),
    ("region outside the image", _mutate("classes.10.region", [0, 0, 1.5, 0.3]), "classes[10].region[2]", "outside"),
    ("empty region", _mutate("classes.10.region", [0.5, 0, 0.5, 0.3]), "classes[10].region", "is empty"),
    (
        "position label placed by a rule",
        _append("layout", {"anchor": "heart_top", "other": "bowtie", "offset": [60, 0]}),
        "classes[10].region",
        "placed by",
    ),
    ("glyph missing", lambda d: d["classes"][0].pop("glyph") and d, "classes[0].glyph", "only arrangement labels"),
    ("arrangement label with a glyph", _mutate("classes.16.glyph", "star"), "arrangement[0].label", "needs no glyph"),
    (
        "arrangement object placed twice",
        _append("layout", {"anchor": "arrow", "other": "cross", "offset": [60, 0]}),
        "arrangement[0].anchor",
        "no other placement rule",
    ),
    (
        "arrangement label in another rule",
        _append("exclusive", ["T_over_arrow", "cross"]),
        "exclusive[1]",
        "arrangement label",
    ),
    ("decoy probability above 1", _mutate("context.2.decoy_p", 2), "context[2].decoy_p", "outside"),
    ("faint not a boolean", _mutate("classes.20.faint", "yes"), "classes[20].faint", "true or false"),
    (
        "unknown arrangement negatives",
        _mutate("arrangement.0.negatives", "nowhere"),
        "arrangement[0].negatives",
        "expected one of mirror, elsewhere",
    ),
    (
        "wrong arrangements cannot fit",
        _mutate("arrangement.0.offset", [0, -110]),
        "arrangement[0].negatives",
        "cannot fit",
    ),
]


@pytest.mark.parametrize("name,mutate,field,reason", BAD_SPECS, ids=[b[0] for b in BAD_SPECS])
def test_bad_spec_raises_spec_error_naming_field(name, mutate, field, reason):
    with pytest.raises(SpecError) as info:
        load_spec(mutate(_default_dict()))
    assert field in info.value.field and reason in str(info.value), str(info.value)


def test_spec_files_json_yaml_and_errors(tmp_path):
    spec = default_spec()
    yaml_path = tmp_path / "spec.yaml"
    yaml_path.write_text(yaml.safe_dump(spec.to_dict()))
    assert load_spec(yaml_path) == spec
    broken = tmp_path / "broken.json"
    broken.write_text('{"classes": [\n  {"name": "a",, }\n]}')
    with pytest.raises(SpecError, match=r"broken\.json: line 2"):
        load_spec(broken)
    bad_yaml = tmp_path / "bad.yml"
    bad_yaml.write_text("classes: [a, b\nlayout: x\n")
    with pytest.raises(SpecError, match=r"bad\.yml: line \d+.*invalid YAML"):
        load_spec(bad_yaml)
    with pytest.raises(SpecError, match="use .json, .yaml or .yml"):
        load_spec(tmp_path / "spec.txt")
    with pytest.raises(SpecError, match="cannot read spec"):
        load_spec(tmp_path / "missing.json")


def test_generate_dataset_writes_readable_manifest(tmp_path, spec):
    out = tmp_path / "data"
    dataset = generate_dataset(out, n=6, seed=4, spec=spec, progress=False)
    read = read_manifest(out / "manifest.json")
    assert read.label_names == spec.label_names and len(read) == 6
    raw = json.loads((out / "manifest.json").read_text())
    assert raw["format"] == "srn-manifest" and raw["images"][0]["path"] == "images/000000.png"
    assert load_spec(out / "spec.json") == spec
    for written, back in zip(dataset.samples, read.samples):
        assert np.array_equal(written.targets, back.targets) and written.boxes == back.boxes
        assert back.extra["rules"] == written.extra["rules"]
        img, _ = render_scene(spec, 4, back.extra["index"])
        assert np.array_equal(_pixels(Image.open(back.path)), _pixels(img)), "PNG is lossless and identical"
    assert not list((out / "images").glob(".*")), "no temporary files left behind"


def test_parallel_generation_is_identical(tmp_path, spec):
    one = generate_dataset(tmp_path / "one", n=5, seed=8, spec=spec, workers=1, progress=False)
    two = generate_dataset(tmp_path / "two", n=5, seed=8, spec=spec, workers=2, progress=False)
    for a, b in zip(one.samples, two.samples):
        assert a.path.read_bytes() == b.path.read_bytes() and a.boxes == b.boxes


def test_cli_generate_end_to_end(tmp_path):
    out, preview = tmp_path / "cli", tmp_path / "sheet.png"
    cmd = [
        sys.executable,
        "-m",
        "srn_core.scenes.cli",
        "generate",
        "--out",
        str(out),
        "--n",
        "5",
        "--seed",
        "1",
        "--quiet",
        "--preview",
        str(preview),
    ]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "5 scenes" in done.stdout and len(read_manifest(out / "manifest.json")) == 5
    assert Image.open(preview).size[0] > 224
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"classes": [{"name": "a", "glyph": "circle", "prior": 2}]}))
    done = subprocess.run([*cmd[:-3], "--spec", str(bad)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "classes[0].prior" in done.stderr


def test_old_specs_render_exactly_as_before():
    """The v1 default spec (no v2 fields) still loads and renders byte-identical scenes (hashes taken from
    the generator before the v2 rules were added)."""
    import hashlib

    old = load_spec(REPO / "tests" / "scene_spec_v1.json")
    assert not old.arrangement and not old.position_labels
    for index, digest in ((0, "a19b65472e72583e"), (28, "42a8e03c4c8b2080")):
        img, sample = render_scene(old, 0, index)
        assert hashlib.sha256(np.asarray(img).tobytes()).hexdigest()[:16] == digest
    assert load_spec(old.to_dict()) == old and "arrangement" not in old.to_dict()


def test_position_labels_share_a_glyph_and_sit_in_their_region(spec, scenes):
    assert len(spec.position_labels) >= 4
    by_glyph: dict[str, list[str]] = {}
    for name in spec.position_labels:
        by_glyph.setdefault(spec.class_by_name[name].glyph, []).append(name)
    assert all(len(v) >= 2 for v in by_glyph.values()), "each position glyph names two or more labels"
    for name in spec.position_labels:
        x0, y0, x1, y1 = (v * spec.image_size for v in spec.class_by_name[name].region)
        hits = [c[name] for p, c, _ in scenes if name in p]
        assert len(hits) >= 30, name
        for cx, cy in hits:
            assert x0 - 0.01 <= cx <= x1 + 0.01 and y0 - 0.01 <= cy <= y1 + 0.01, (name, cx, cy)
    glyph, names = next(iter(by_glyph.items()))
    assert any(set(names) <= p for p, _, _ in scenes), "both positions can appear in one image"


def test_arrangement_labels_fire_for_one_arrangement_only(spec, scenes):
    assert spec.arrangement
    for rule in spec.arrangement:
        family = [(p, c, s) for p, c, s in scenes if {rule.anchor, rule.other} <= p]
        on = [(c, s) for p, c, s in family if rule.label in p]
        off = [c for p, c, s in family if rule.label not in p]
        assert len(on) >= 20 and len(off) >= 20, rule.id
        assert not [p for p, _, _ in scenes if rule.label in p and not {rule.anchor, rule.other} <= p]
        assert abs(len(on) / len(family) - 0.5) < 0.15, "co-occurrence must not tell the label"
        for centres, sample in on:
            delta = centres[rule.other] - centres[rule.anchor]
            assert np.all(np.abs(delta - np.array(rule.offset)) <= rule.jitter + 0.05), (rule.id, delta)
            assert rule.id in sample.extra["rules"]
            box = next(b for b in sample.boxes if b.label == rule.label)
            parts = [b for b in sample.boxes if b.label in (rule.anchor, rule.other)]
            assert (box.x0, box.y0) == (min(b.x0 for b in parts), min(b.y0 for b in parts))
            assert (box.x1, box.y1) == (max(b.x1 for b in parts), max(b.y1 for b in parts))
        wrong = [np.array(w) for w in rule.wrong_offsets()]
        seen = set()
        for centres in off:
            delta = centres[rule.other] - centres[rule.anchor]
            near = [i for i, w in enumerate(wrong) if np.all(np.abs(delta - w) <= rule.jitter + 0.05)]
            assert near, (rule.id, delta)
            assert np.max(np.abs(delta - np.array(rule.offset))) > 2 * rule.jitter, "a negative sits at the offset"
            seen.update(near)
        assert rule.negatives == "mirror" or len(seen) == len(wrong), (rule.id, sorted(seen))


def test_mirror_negatives_keep_the_v2_arrangements():
    """`negatives: mirror` (the default of a rule that names none) puts the other object at -offset."""
    data = _default_dict()
    for rule in data["arrangement"]:
        rule.pop("negatives", None)
    spec = load_spec(data)
    assert {r.negatives for r in spec.arrangement} == {"mirror"}
    for i in range(120):
        _, sample = render_scene(spec, 4, i)
        present = set(sample.positive_labels(spec.label_names))
        centres = {b.label: np.array([(b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2]) for b in sample.boxes}
        for rule in spec.arrangement:
            if {rule.anchor, rule.other} <= present and rule.label not in present:
                delta = centres[rule.other] - centres[rule.anchor]
                assert np.all(np.abs(delta + np.array(rule.offset)) <= rule.jitter + 0.05), (rule.id, delta)


def test_faint_object_decoys_change_pixels_not_labels():
    """Decoys are unlabelled copies of a faint glyph away from the planted offset: same ground truth."""
    data = _default_dict()
    data["context"][2]["decoy_p"] = 0.0
    plain = load_spec(data)
    data["context"][2]["decoy_p"] = 1.0
    decoyed = load_spec(data)
    changed = 0
    for index in range(6):
        img_a, a = render_scene(plain, 3, index)
        img_b, b = render_scene(decoyed, 3, index)
        assert np.array_equal(a.targets, b.targets) and a.boxes == b.boxes
        changed += not np.array_equal(_pixels(img_a), _pixels(img_b))
    assert changed >= 4


def test_support_label_sits_beside_its_partner_and_is_faint(spec, scenes):
    rule = next(r for r in spec.context if r.decoy_p > 0)
    assert spec.class_by_name[rule.label].faint
    hits = [(c, s) for p, c, s in scenes if rule.label in p]
    assert len(hits) >= 20
    for centres, _ in hits:
        delta = centres[rule.label] - centres[rule.beside]
        assert np.all(np.abs(delta - np.array(rule.offset)) <= rule.jitter + 0.05)
