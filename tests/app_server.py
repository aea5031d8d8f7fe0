"""Start the dashboard as a real Streamlit server on a free localhost port, for the browser tests and
benchmarks/bench_dashboard.py: `with serving() as url: ...` waits for /_stcore/health and stops the server after."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from dashboard.settings import REPO

APP = REPO / "dashboard" / "app.py"


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def serving(
    port: int | None = None, env: dict[str, str] | None = None, timeout: float = 120.0, log: Path | None = None
) -> Iterator[str]:
    """Run `streamlit run dashboard/app.py` headless on `port` (default: a free one); yield its URL.

    Raises RuntimeError (with the server's output) if it does not answer within `timeout` seconds.
    """
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with ExitStack() as stack:
        output = stack.enter_context(open(log, "wb")) if log else subprocess.DEVNULL
        process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **(env or {})}, stdout=output, stderr=subprocess.STDOUT
        )
        stack.callback(_stop, process)
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                detail = log.read_text(errors="replace")[-2000:] if log else "(no log kept)"
                raise RuntimeError(f"the dashboard server on port {port} did not start: {detail}")
            time.sleep(0.2)
        yield url


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
