"""`python -m analysis`: the dispatcher of the subcommands `report`, `scene-proof`, `probe` and `faithfulness`;
each lives in the `cli` module of its part."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from srn_core.interrupt import run_interruptible

from .faithfulness import cli as faithfulness_cli
from .proof import cli as proof_cli
from .proof import probe_cli
from .report import cli as report_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description="SRN analysis: measures and figures.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report_cli.add_parser(subparsers)
    proof_cli.add_parser(subparsers)
    probe_cli.add_parser(subparsers)
    faithfulness_cli.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_interruptible(args.run, args)
