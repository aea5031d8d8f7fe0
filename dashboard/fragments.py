"""Views and parts of views as Streamlit fragments: a widget inside reruns only its fragment, not the
page. An error inside a fragment would end its run with Streamlit's own error box, so each fragment
catches it itself (`guard.guarded`) and shows the same message a view outside a fragment shows."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import streamlit as st

from .guard import guarded


def guarded_fragment(where: str) -> Callable[[Callable[..., Any]], Callable[..., None]]:
    """Decorator: run the function as a fragment whose errors become a message naming `where`."""
    def wrap(function: Callable[..., Any]) -> Callable[..., None]:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> None:
            guarded(where, function, *args, **kwargs)
        return st.fragment(run)
    return wrap
