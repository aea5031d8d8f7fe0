"""Run a piece of the page so that an error becomes a clear message on the page, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from srn_core.checkpoint import CheckpointError
from srn_core.datasets import DatasetError
from srn_core.images import ImageLoadError
from srn_core.text_safety import markdown_text

T = TypeVar("T")
LOG = logging.getLogger("dashboard")
EXPECTED = (ImageLoadError, CheckpointError, DatasetError, ValueError, OSError)
MESSAGE_CHARS = 600


def message(exc: Exception, where: str) -> str:
    """The text shown for `exc`: the message itself for errors about the user's files and inputs
    (they name the file and the reason), the error type and message for anything else."""
    if isinstance(exc, EXPECTED):
        return f"{where}: {exc}"
    return f"{where} failed ({type(exc).__name__}: {exc}). The rest of the app keeps working."


def show_error(text: str) -> None:
    """`st.error` of a message that may quote file names, label names or metadata: shown as plain text."""
    st.error(markdown_text(text, MESSAGE_CHARS))


def guarded(where: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """`function(*args, **kwargs)`, or None after showing `st.error` (the traceback goes to the log)."""
    try:
        return function(*args, **kwargs)
    except Exception as exc:
        LOG.warning("%s", message(exc, where), exc_info=not isinstance(exc, EXPECTED))
        show_error(message(exc, where))
        return None
