"""Views and parts of views as Streamlit fragments: a widget inside reruns only its fragment, not the
page. An error inside a fragment would end its run with Streamlit's own error box, so each fragment
catches it itself (`guard.guarded`) and shows the same message a view outside a fragment shows.

With `SRN_TIMING_LOG` set to a file, every fragment run appends one JSON line {"fragment", "seconds"}:
the server time of a control change, which benchmarks/bench_dashboard.py reads."""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from .guard import guarded


def guarded_fragment(where: str) -> Callable[[Callable[..., Any]], Callable[..., None]]:
    """Decorator: run the function as a fragment whose errors become a message naming `where`."""

    def wrap(function: Callable[..., Any]) -> Callable[..., None]:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> None:
            start = time.perf_counter()
            try:
                guarded(where, function, *args, **kwargs)
            finally:
                _log_time(function.__qualname__, time.perf_counter() - start)

        return st.fragment(run)

    return wrap


def _log_time(name: str, seconds: float) -> None:
    log = os.environ.get("SRN_TIMING_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"fragment": name, "seconds": seconds}) + "\n")
