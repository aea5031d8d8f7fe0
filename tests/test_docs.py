"""Docs that run: every ```python and ```bash block in README.md and docs/*.md is executed, against the
shipped weights (weights/demo_scenes.safetensors) and sample scenes (weights/samples/), in a temporary
working copy of the repository (the files git tracks or would track), so blocks run from the root as a
reader runs them and nothing in the repository is written. Python blocks run in a fresh interpreter,
bash blocks with `bash -euo pipefail`; `python` on PATH is this interpreter (the venv's).

A block that must not run here (hours of training, data that is not shipped, a server that never
stops) is marked by an HTML comment on the line right before its fence, `<!-- docs: skip (reason) -->`;
such a block is still checked for syntax, and the number of skipped blocks is fixed below, so skipping
one more is a decision made in this file. Every other block names what it shows (json, csv, yaml, text).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUN = {"python": [sys.executable], "bash": ["bash", "-euo", "pipefail"]}
SHOWN = {"json", "csv", "yaml", "text"}
SKIPPED = 15  # blocks marked `docs: skip`, all with a reason (test_skipped_blocks_are_counted_and_say_why)
FENCE = re.compile(r"```(?P<lang>[\w-]*)")
SKIP = re.compile(r"<!-- docs: skip \((?P<reason>[^()]*\S[^()]*)\) -->")
TIMEOUT_S = 900
# Our commands in a skipped bash block, and the options they are given (checked against --help).
COMMAND = re.compile(r"-m (?P<module>srn_core|analysis) (?P<sub>[\w-]+)(?P<args>.*)")
OPTION = r"(?<![\w-])--[a-z][\w-]*"


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it starts (the fence's line), its language, code and skip reason."""

    path: Path
    line: int
    lang: str
    code: str
    skip: str | None

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def read_blocks(path: Path) -> list[Block]:
    """The fenced blocks of one markdown file (fences at the start of a line, as all our docs write them)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    n = 0
    while n < len(lines):
        opening = FENCE.fullmatch(lines[n].rstrip())
        if opening is None:
            n += 1
            continue
        end = next((i for i in range(n + 1, len(lines)) if lines[i].rstrip() == "```"), None)
        assert end is not None, f"{path.relative_to(REPO)}:{n + 1}: code block never closed"
        mark = SKIP.fullmatch(lines[n - 1].strip()) if n else None
        code = "\n".join(lines[n + 1 : end]) + "\n"
        found.append(Block(path, n + 1, opening["lang"], code, mark["reason"] if mark else None))
        n = end + 1
    return found


BLOCKS = [block for path in DOCS for block in read_blocks(path)]
RUNNABLE = [b for b in BLOCKS if b.lang in RUN and b.skip is None]


def test_every_block_says_what_it_is() -> None:
    unknown = [f"{b}: ```{b.lang}" for b in BLOCKS if b.lang not in RUN and b.lang not in SHOWN]
    assert unknown == [], f"name the language of each block ({', '.join(sorted([*RUN, *SHOWN]))})"


def test_skipped_blocks_are_counted_and_say_why() -> None:
    marks = [
        (path, n + 1)
        for path in DOCS
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines())
        if line.strip().startswith("<!-- docs:")
    ]
    marked = {(b.path, b.line - 1) for b in BLOCKS if b.skip is not None}
    assert [f"{p.relative_to(REPO)}:{n}" for p, n in marks if (p, n) not in marked] == [], (
        "each `<!-- docs: skip (reason) -->` stands on the line right before a python or bash block's fence"
    )
    skipped = [f"{b}: {b.skip}" for b in BLOCKS if b.skip is not None]
    assert all(b.lang in RUN for b in BLOCKS if b.skip is not None), skipped
    assert len(skipped) == SKIPPED, "\n".join(skipped)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.skip is not None], ids=str)
def test_skipped_block_is_valid_code(block: Block) -> None:
    """Valid syntax, and every option of our commands in it is one the command has."""
    if block.lang == "python":
        compile(block.code, str(block), "exec")
        return
    checked = subprocess.run(["bash", "-n"], input=block.code, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr
    for line in block.code.replace("\\\n", " ").splitlines():
        command = COMMAND.search(re.sub(r"(^|\s)#.*", "", line))
        if command:
            known = set(re.findall(OPTION, command_help(command["module"], command["sub"])))
            unknown = sorted(set(re.findall(OPTION, command["args"])) - known)
            assert unknown == [], f"{block}: python -m {command['module']} {command['sub']} has no {unknown}"


@functools.cache
def command_help(module: str, sub: str) -> str:
    done = subprocess.run([sys.executable, "-m", module, sub, "--help"], cwd=REPO, text=True, capture_output=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def working_copy(folder: Path) -> None:
    """Copy the repository's files as a clone has them, plus new ones not ignored, into `folder`."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        if (REPO / name).is_file():  # a deletion not yet committed is left out
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, folder / name)


@pytest.mark.parametrize("block", RUNNABLE, ids=str)
def test_block_runs(block: Block, tmp_path: Path) -> None:
    working_copy(tmp_path)
    script = tmp_path / f".docs_block.{'py' if block.lang == 'python' else 'sh'}"
    script.write_text(block.code, encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MPLBACKEND": "Agg",
    }
    done = subprocess.run(
        [*RUN[block.lang], script.name],
        cwd=tmp_path,
        env=env,
        text=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, (
        f"{block} exited with {done.returncode}:\n{block.code}\n"
        f"--- stdout ---\n{done.stdout[-3000:]}\n--- stderr ---\n{done.stderr[-3000:]}"
    )
