"""`python -m srn_core import-caffe`: convert a released Caffe SRN into our checkpoint, verified.

Reads the prototxt and caffemodel (nothing in them is executed), runs the graph once, finds the
SRN's parts by structure, copies the weights, checks the converted model against the Caffe graph
on a random input, and writes the checkpoint atomically with the provenance in its metadata.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from tqdm import tqdm

from ..checkpoint import save_checkpoint
from .errors import CaffeImportError, MappingError
from .executor import CaffeExecutor
from .labels import BUILTIN, resolve_labels
from .mapping import OFFICIAL_MEAN_BGR, RGB_MEAN, RGB_STD, Conversion, convert
from .reader import attach_weights, read_caffemodel, read_prototxt

STEPS = ("read prototxt", "read caffemodel", "check graph", "map and verify", "write checkpoint")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-caffe",
        help="convert the authors' released Caffe SRN models into an SRN checkpoint",
        description="Read a Caffe SRN (.prototxt + .caffemodel, the authors' fork or upstream Caffe) without "
        "Caffe, map it onto our SRN by graph structure, verify the result against the Caffe graph "
        "and write a .safetensors checkpoint the predictor, analysis and dashboard open.",
    )
    parser.add_argument("--prototxt", required=True, type=Path, help="deploy/test net definition (text)")
    parser.add_argument("--caffemodel", required=True, type=Path, help="trained weights (binary)")
    parser.add_argument(
        "--labels",
        required=True,
        metavar="SET_OR_FILE",
        help=f"label names: {', '.join(BUILTIN)} or a file with one name a line",
    )
    parser.add_argument("--out", required=True, type=Path, help="checkpoint to write (.safetensors)")
    parser.add_argument(
        "--input-size",
        type=int,
        default=None,
        help="input side in pixels when the prototxt does not declare it (default: the prototxt's)",
    )
    parser.set_defaults(run=run)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def provenance(args: argparse.Namespace, conversion: Conversion, size: int) -> dict:
    """The `training` metadata entry recording where the weights came from and what was checked."""
    return {
        "source": {
            "format": "caffe (authors' release, converted by srn_core.caffe)",
            "prototxt": args.prototxt.name,
            "caffemodel": args.caffemodel.name,
            "caffemodel_sha256": _sha256(args.caffemodel),
            "labels": str(args.labels),
            "original_preprocessing": {
                "channel_order": "BGR",
                "pixel_range": "0-255",
                "mean_pixel_bgr": list(OFFICIAL_MEAN_BGR),
                "resize": f"whole image to {size}x{size}, no crop",
            },
            "expressed_as": "first conv input channels swapped BGR->RGB; normalisation mean (123, 117, 104)/255, "
            "std 1/255 on RGB input in [0, 1]",
            "layers_mapped": conversion.parts,
            "verification_max_abs_diff": conversion.max_abs_diff,
            "notes": conversion.notes,
        }
    }


def shown(name: str, limit: int = 120) -> str:
    """A layer name from the file as printed: control characters escaped, long names cut."""
    text = name if name.isprintable() else ascii(name)
    return text if len(text) <= limit else text[:limit] + "..."


def summary(conversion: Conversion, labels: str, out: Path) -> str:
    config = conversion.model.config
    stages = [len(conversion.parts[f"stage{i}"]) for i in range(1, 5)]
    lines = [
        f"wrote {out}",
        f"  backbone  {config.backbone} (blocks {stages}, widths {list(config.widths or [])}), input "
        f"{config.input_size} px, grid {config.grid}x{config.grid}",
        f"  labels    {config.num_labels} ({shown(labels)}), alpha {config.alpha:g}, f_att {config.att_channels} "
        f"channels, f_sr {config.sr_channels} x {config.filters_per_channel} filters",
    ]
    for part in ("stem", "f_att", "confidence", "f_sr", "classifiers", "fusion"):
        lines.append(f"  {part:<12}<- {', '.join(shown(name) for name in conversion.parts[part])}")
    lines.append(
        "  verified against the Caffe graph (max |difference| on a random input): "
        + ", ".join(f"{k} {v:.2g}" for k, v in conversion.max_abs_diff.items())
    )
    lines.extend(f"  note: {note}" for note in conversion.notes)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    progress = tqdm(STEPS, desc="import-caffe", unit="step", file=sys.stderr, leave=False)
    try:
        progress.set_postfix_str(STEPS[0])
        net = read_prototxt(args.prototxt)
        progress.update()
        progress.set_postfix_str(STEPS[1])
        attach_weights(net, read_caffemodel(args.caffemodel), str(args.caffemodel))
        progress.update()
        progress.set_postfix_str(STEPS[2])
        executor = CaffeExecutor(net)
        shape = executor.input_shape()
        if args.input_size is not None or shape is None:
            size = args.input_size or 224
            shape = (1, 3, size, size)
        progress.update()
        progress.set_postfix_str(STEPS[3])
        conversion = convert(executor, (1, *shape[1:]))
        labels = resolve_labels(args.labels, conversion.model.num_labels)
        progress.update()
        progress.set_postfix_str(STEPS[4])
        size = conversion.model.config.input_size
        save_checkpoint(args.out, conversion.model, labels, provenance(args, conversion, size), RGB_MEAN, RGB_STD)
        progress.update()
    except CaffeImportError as exc:
        progress.close()
        hint = (
            " (the graph itself runs: srn_core.caffe.CaffeExecutor returns every named blob)"
            if isinstance(exc, MappingError)
            else ""
        )
        print(f"error: {exc}{hint}", file=sys.stderr)
        return 2
    except OSError as exc:
        progress.close()
        print(f"error: {exc.filename or args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    progress.close()
    print(summary(conversion, args.labels, args.out))
    return 0
