"""`python -m srn_core`: the command line; each subcommand lives in the module that owns its job."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import domain_cli, evaluate_cli, predict_cli
from .caffe import cli as caffe_cli
from .interrupt import run_interruptible
from .scenes import cli as scenes_cli
from .training import cli as train_cli

COMMAND_MODULES = (predict_cli, train_cli, evaluate_cli, domain_cli, scenes_cli, caffe_cli)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m srn_core",
        description="Spatial Regularization Network: predict, train, evaluate, generate data.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_interruptible(args.run, args)
