"""Command-line options generated from a settings dataclass, so that each setting is written once.

A field declared with `setting(default, help, ...)` carries its option in its metadata: flag (default
`--field-name`), parser (which also refuses bad values at parse time, exit code 2), choices, metavar,
nargs and help group. `add_options` adds every such field to a parser and `from_options` builds the
dataclass back from the parsed namespace. A bool field becomes a switch: `--flag` sets True when its
default is False, and a flag named in its metadata (e.g. `--quiet`) sets False when its default is True.
Help texts may show `{default}` (a tuple as its comma-separated values).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")
OPTION = "option"


@dataclass(frozen=True)
class Option:
    """How a dataclass field appears on the command line."""

    help: str | None = None
    group: str | None = None
    flag: str | None = None
    parse: Callable[[str], Any] | None = None
    choices: tuple[Any, ...] | None = None
    metavar: str | None = None
    nargs: int | None = None


def setting(default: Any = MISSING, help: str | None = None, **option: Any) -> Any:
    """A dataclass field with its command-line option (`option`: the other fields of Option)."""
    return field(default=default, metadata={OPTION: Option(help, **option)})


def option_of(f: Field) -> Option | None:
    """The Option of a field, or None for a field that has no option of its own."""
    return f.metadata.get(OPTION)


def flag_of(f: Field) -> str:
    """The command-line flag of a field declared with `setting`."""
    return option_of(f).flag or "--" + f.name.replace("_", "-")


def _shown(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _parser(default: Any) -> Callable[[str], Any] | None:
    return type(default) if isinstance(default, (int, float)) else None


def add_options(parser: argparse.ArgumentParser, cls: type, groups: dict[str, str] | None = None) -> None:
    """Add an option for every field of `cls` declared with `setting`, in field order, each in its
    group (`groups` maps group keys to their titles, created in that order)."""
    containers = {key: parser.add_argument_group(title) for key, title in (groups or {}).items()}
    for f in fields(cls):
        option = option_of(f)
        if option is None:
            continue
        target = containers[option.group] if option.group else parser
        kwargs: dict[str, Any] = {"dest": f.name, "metavar": option.metavar}
        if isinstance(f.default, bool):
            kwargs.update(action="store_false" if f.default else "store_true", default=f.default, metavar=None)
        elif f.default is MISSING:
            kwargs.update(required=True, type=option.parse)
        else:
            kwargs.update(
                default=f.default, type=option.parse or _parser(f.default), choices=option.choices, nargs=option.nargs
            )
        if option.help is not None:
            kwargs["help"] = option.help.format(default=_shown(f.default))
        target.add_argument(flag_of(f), **{k: v for k, v in kwargs.items() if v is not None})


def from_options(cls: type[T], args: argparse.Namespace, **given: Any) -> T:
    """The `cls` the parsed options describe; `given` supplies fields built from several options."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if f.name not in given and hasattr(args, f.name)}
    return cls(**values, **given)


def numbers(kind: type, counts: tuple[int, ...] = (1, 4)) -> Callable[[str], tuple]:
    """A parser of comma-separated numbers of `kind`, `counts` of them (one, or one per stage, by default)."""

    def parse(text: str) -> tuple:
        try:
            values = tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__}s, got {text!r}") from None
        if len(values) not in counts:
            raise argparse.ArgumentTypeError(f"expected {' or '.join(map(str, counts))} value(s), got {text!r}")
        return values

    return parse
