"""`generate`: render a synthetic scene dataset with known label relations from a spec file.

Hooked into `python -m srn_core` through `add_parser`; also runnable on its own as
`python -m srn_core.scenes.cli generate --out DIR --n N`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ..datasets import DatasetError, MultiLabelDataset
from ..fileio import atomic_path
from .generator import generate_dataset
from .render import contact_sheet
from .spec import DEFAULT_SPEC_PATH, SpecError
from .spec_reader import load_spec


def _count(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the `generate` subcommand; it dispatches to `run`."""
    parser = subparsers.add_parser(
        "generate",
        help="render synthetic scenes whose label relations are known",
        description="Render N scenes obeying a relation spec into DIR/images/*.png, with DIR/manifest.json "
        "(labels, boxes, fired rules) and DIR/spec.json (the spec used).",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    parser.add_argument("--n", type=_count(1), default=1000, metavar="N", help="number of scenes (default 1000)")
    parser.add_argument(
        "--seed",
        type=_count(0),
        default=0,
        metavar="S",
        help="run seed; image i depends only on (spec, S, i) (default 0)",
    )
    parser.add_argument(
        "--spec",
        type=Path,
        default=DEFAULT_SPEC_PATH,
        metavar="FILE",
        help="relation spec, JSON or YAML (default: the shipped default_spec.json)",
    )
    parser.add_argument("--workers", type=_count(1), default=1, metavar="W", help="rendering processes (default 1)")
    parser.add_argument(
        "--preview", type=Path, metavar="PNG", help="also save a contact sheet of the first 16 scenes with their boxes"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def save_preview(dataset: MultiLabelDataset, path: Path, count: int = 16) -> None:
    """Save a contact sheet of the first `count` scenes with boxes and fired rules (atomically)."""
    samples = dataset.samples[:count]
    images = [Image.open(s.path).convert("RGB") for s in samples]
    boxes = [[(b.label, (b.x0, b.y0, b.x1, b.y1)) for b in s.boxes] for s in samples]
    captions = [" ".join(s.extra.get("rules", [])) for s in samples]
    with atomic_path(path) as tmp:
        contact_sheet(images, captions, boxes).save(tmp, format="PNG")


def _summary(dataset: MultiLabelDataset, seconds: float) -> str:
    targets = dataset.target_matrix()
    fired = Counter(r for s in dataset.samples for r in s.extra.get("rules", []))
    lines = [
        f"{len(dataset)} scenes in {seconds:.1f} s ({len(dataset) / max(seconds, 1e-9):.0f} images/s), "
        f"{targets.sum(axis=1).mean():.2f} labels per image"
    ]
    lines += [f"  rule {rule}: fired in {n} images" for rule, n in sorted(fired.items())]
    lines += [f"  label {name}: {int(c)} images" for name, c in zip(dataset.label_names, np.sum(targets, axis=0))]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Generate the dataset the arguments describe; errors go to stderr with exit status 2."""
    try:
        spec = load_spec(args.spec)
        start = time.perf_counter()
        dataset = generate_dataset(args.out, args.n, args.seed, spec, args.workers, progress=not args.quiet)
        elapsed = time.perf_counter() - start
        if args.preview:
            save_preview(dataset, args.preview)
    except (SpecError, DatasetError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(_summary(dataset, elapsed))
    print(f"manifest: {Path(args.out) / 'manifest.json'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point with only the `generate` subcommand."""
    parser = argparse.ArgumentParser(prog="python -m srn_core.scenes.cli")
    add_parser(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
