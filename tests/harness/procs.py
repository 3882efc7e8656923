"""Child processes of the e2e tests: started with a log file, stopped by PID, never leaked.

Every process the e2e tests start (etcd, kube-apiserver, kube-controller-manager, the operator,
the simulator) is a `ManagedProcess`:

- its stdout and stderr go to one log file, whose tail is shown when it fails to start or when a
  test that used it fails;
- it runs in a session of its own (a Ctrl-C in the terminal reaches pytest, which then stops the
  children in order) and, on Linux, receives SIGKILL if pytest itself dies;
- `stop()` sends SIGTERM to its PID, then SIGKILL after a grace period; it is idempotent and is
  also registered with `atexit`, so an interrupted session leaves nothing running.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1


class StartError(RuntimeError):
    """A component did not come up; the message carries its log tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    predicate: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
) -> T:
    """Poll `predicate` until it returns a truthy value, or raise TimeoutError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def http_ok(url: str, token: str | None = None) -> bool:
    """True when GET `url` answers 200 (TLS certificates are not checked: local test servers)."""
    request = urllib.request.Request(url)  # noqa: S310 - http(s) URLs of local test servers
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:  # refused, reset, timed out, TLS not up yet, or an HTTP error status
        return False


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file ("" when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


_prctl = _load_prctl()


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGKILL it when pytest dies."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ManagedProcess:
    """One child process with a log file; see the module docstring."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            log.write(f"$ {' '.join(self.argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
                # pytest starts these from its main thread, before any helper thread runs.
                preexec_fn=_die_with_parent,
            )
        self.pid = self.process.pid
        atexit.register(self.stop)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)

    def start_error(self, problem: str) -> StartError:
        """An error naming the component, its exit status if any, and its log tail."""
        code = self.process.poll()
        status = f"exited with status {code}" if code is not None else f"pid {self.pid}"
        return StartError(
            f"{self.name} {problem} ({status}); last lines of {self.log_path}:\n{self.tail()}"
        )

    def wait_ready(self, check: Callable[[], T], *, timeout: float, what: str) -> T:
        """Wait until `check()` is truthy; fail at once (with the log tail) if the process exits."""

        def ready() -> T:
            if not self.running:
                raise self.start_error(f"exited while waiting for {what}")
            return check()

        try:
            return wait_until(ready, timeout=timeout, what=what)
        except TimeoutError as exc:
            raise self.start_error(str(exc)) from None

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds; returns the exit status. Idempotent."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                self.process.wait(timeout=grace)
        atexit.unregister(self.stop)
        return self.process.returncode

    def __repr__(self) -> str:
        return f"<{self.name} pid={self.pid} log={self.log_path}>"
