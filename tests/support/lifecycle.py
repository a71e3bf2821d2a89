"""`with X() as x:` for test servers that have `start()`/`stop()`."""

from __future__ import annotations

import signal
import socket
import sys
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class StartStop(ABC):
    """Entering calls ``start()`` and returns the object; exiting calls ``stop()``."""

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def free_port() -> int:
    """A port free right now on 127.0.0.1 (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def die_with_parent() -> None:
    """`preexec_fn` for test servers: on Linux, the child gets SIGTERM if the test process dies.

    Why: a test run killed with SIGKILL never reaches fixture teardown, and an orphaned server
    would hold its port and memory until someone notices. Linux sends the signal when the
    *thread* that spawned the child exits, so start servers from a long-lived thread (pytest
    fixtures run on the main one).
    """
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
