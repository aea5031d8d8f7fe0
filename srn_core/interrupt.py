"""End a command-line job cleanly on SIGTERM or SIGINT: no traceback, no temporary file left behind.

SIGTERM normally kills the process at once, so `finally` blocks (which delete the temporary files of
atomic writes) never run. `run_interruptible` turns SIGTERM into an `Interrupted` exception (a
KeyboardInterrupt, as SIGINT already raises), lets every `finally` clean up, prints one line and
returns the conventional exit status 128 + signal number.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import Any


class Interrupted(KeyboardInterrupt):
    """The process received SIGTERM (or SIGINT) and is unwinding."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, frame: Any) -> None:
    raise Interrupted(signum)


def run_interruptible(function: Callable[..., int], *args: Any) -> int:
    """`function(*args)`; on SIGTERM or SIGINT the job unwinds, says so on stderr and returns 128 + signal."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise) if main else None
    try:
        return int(function(*args) or 0)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(
            f"\ninterrupted by {signal.Signals(signum).name}; files being written were removed, "
            f"finished files are complete",
            file=sys.stderr,
        )
        return 128 + int(signum)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
