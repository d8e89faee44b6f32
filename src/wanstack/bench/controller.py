"""The controller: starts role processes, drives them over their stdin/stdout, stops them for sure."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from typing import Any


class RoleProcess:
    """One bench role (`wanstack.bench.roles`) in its own process and session."""

    def __init__(
        self,
        role: str,
        url: str | list[str],
        *,
        topic: str = "wanstack-bench",
        server: str | None = None,
        work_ms: float = 0.0,
        ready_timeout_s: float = 60.0,
        wait: bool = True,
        durable: bool = False,
    ) -> None:
        urls = [url] if isinstance(url, str) else url
        # The same roles on NATS (`bench.nats_roles`) when the bus is a NATS one.
        module = "wanstack.bench.nats_roles" if urls[0].startswith("nats://") else "wanstack.bench.roles"
        cmd = [
            sys.executable,
            "-m",
            module,
            role,
            *(arg for u in urls for arg in ("--url", u)),
            "--topic",
            topic,
            "--work-ms",
            str(work_ms),
        ]
        if server is not None:
            cmd += ["--server", server]
        if durable:
            cmd.append("--durable")
        self.role = role
        self._stop_sent = False
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.ready_timeout_s = ready_timeout_s
        if wait:
            self.wait_ready()

    def wait_ready(self) -> RoleProcess:
        """Wait for the "ready" line. Start many roles with wait=False, then wait for each: they load
        oslo.messaging in parallel instead of one after the other."""
        answer = self._read(self.ready_timeout_s)
        if not answer.get("ready"):
            self.close()
            raise RuntimeError(f"{self.role} did not start: {answer}")
        return self

    def _read(self, timeout_s: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        import selectors

        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout_s):
                raise TimeoutError(f"{self.role} did not answer in {timeout_s:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.role} exited with {self.proc.poll()}")
        return json.loads(line)  # type: ignore[no-any-return]

    def tell(self, command: dict[str, Any]) -> None:
        """Send a command without waiting (to start several roles at once); `answer()` collects it."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def answer(self, timeout_s: float = 600.0) -> dict[str, Any]:
        return self._read(timeout_s)

    def ask(self, command: dict[str, Any], timeout_s: float = 600.0) -> dict[str, Any]:
        self.tell(command)
        return self._read(timeout_s)

    def stop_soon(self) -> None:
        """Ask the role to stop without waiting: roles told one after the other stop together, and
        `close()` then only collects each one's answer."""
        if self.proc.poll() is None and not self._stop_sent:
            with contextlib.suppress(OSError):
                self.tell({"cmd": "stop"})
                self._stop_sent = True

    def close(self, politely: bool = True) -> None:
        """Stop the role: ask it to stop (it closes its AMQP connection cleanly), then kill its session.
        On an error or an interrupt there is no asking: a busy role would not answer in time."""
        if self.proc.poll() is None and politely:
            with contextlib.suppress(Exception):
                if not self._stop_sent:
                    self.tell({"cmd": "stop"})
                self._read(5)
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def __enter__(self) -> RoleProcess:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(politely=exc_type is None)
