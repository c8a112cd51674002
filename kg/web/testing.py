"""The real ``kg serve`` for tests, benchmarks and notebooks (as :mod:`starlette.testclient` is for an app).

Unlike Starlette's ``TestClient``, nothing runs in the caller's process: the server is started as
``kg serve`` in a child process on a free local port, so requests go through uvicorn, the query
pool and its worker processes, as they do in use::

    from kg.web.testing import running_server

    with running_server("out/store", "--timeout", "5") as base:
        urllib.request.urlopen(base + "/health")

:func:`running_server` stops the server on leaving the block; :func:`start_server` and
:func:`stop_server` do the same in two steps, for a caller that needs the process itself (its
memory, a signal).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["free_port", "running_server", "start_server", "stop_server"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(store: Path | str, port: int, *args: str, start_timeout: float = 30.0) -> subprocess.Popen[bytes]:
    """Start ``kg serve --store STORE --port PORT ARGS`` in a child process; return it once ``/health`` answers.

    Raises :class:`RuntimeError` with the server's error output when it exits or has not answered
    within ``start_timeout`` seconds (it is killed then). Stop it with :func:`stop_server`.
    """
    exe = shutil.which("kg", path=str(Path(sys.executable).parent)) or "kg"
    # the server's error output goes to a file, not a pipe: a pipe nobody reads could fill and block it
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [exe, "serve", "--store", str(store), "--port", str(port), *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                return proc
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    stop_server(proc, 0)
                    err.seek(0)
                    raise RuntimeError(
                        f"kg serve did not start: {err.read().decode(errors='replace').strip()}"
                    ) from None
                time.sleep(0.1)


def stop_server(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Stop a server :func:`start_server` started: SIGTERM, then SIGKILL after ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running_server(store: Path | str, *args: str, start_timeout: float = 30.0) -> Iterator[str]:
    """Run ``kg serve --store STORE ARGS`` in a child process on a free local port; yield its base URL
    (``http://127.0.0.1:PORT``). The server is stopped on leaving the block."""
    port = free_port()
    proc = start_server(store, port, *args, start_timeout=start_timeout)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)
