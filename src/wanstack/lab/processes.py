"""Processes of the lab: services and one-off commands, each in a session of its own (so that stopping
it stops what it started), its output in a log file, stopped politely then by signal; and SIGTERM
made to unwind like Ctrl-C, so that every `with` block's clean-up runs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path


def exit_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C (SystemExit runs every `with` block's clean-up), once, from the
    main thread; a handler someone else installed is left alone."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


# What stops a command, whoever started it: Ctrl-C, `kill`, and the terminal closing.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Inside, SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread, whatever the
    process inherited: a job started under `nohup`, as a background job of a script, or by a CI runner
    gets SIGINT (and SIGHUP) ignored, and was then not stoppable by Ctrl-C while a testbed started.
    The first one interrupts; those after it are ignored, so that the clean-up it starts (a `with`
    block's exit, stopping services) is not cut short. The previous dispositions come back on the way
    out. Elsewhere than the main thread, a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        for other in STOP_SIGNALS:  # the clean-up this starts runs to its end: later ones are ignored
            signal.signal(other, signal.SIG_IGN)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    before = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs: it exists (even as another user's) and is not a zombie waiting for
    its parent to reap it (`kill(pid, 0)` succeeds on a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if "zombie" in Path(f"/proc/{pid}/status").read_text().lower():
            return False
    return True


def terminate(proc: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """End a process and everything in its session (beam.smp, its port programs)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(grace_s)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # children left in its session


@dataclass(eq=False)
class ServiceProcess:
    """One long-running service (e.g. an OpenStack process at a site) in a session of its own, its output
    appended to `log` and `env` added to its environment; `stop` ends it and whatever it started."""

    name: str  # e.g. "nova-compute@edge-1"
    argv: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    grace_s: float = 10.0  # how long `stop` waits after SIGTERM before SIGKILL
    # Prefixes of our environment's variables it must not inherit (a broker of its own ignores the
    # RABBITMQ_* a user may have set for another).
    unset: tuple[str, ...] = ()

    def start(self) -> ServiceProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(self.unset)}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**inherited, **self.env},
                start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Its process id (its session's) while it runs."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def wait_until(self, ready: Callable[[], bool], timeout_s: float, poll_s: float, what: str) -> None:
        """Until `ready()`, asked every `poll_s`: RuntimeError if the process exits first,
        TimeoutError after `timeout_s` ("{name} not {what} in … s"), each with the end of its log."""
        deadline = time.monotonic() + timeout_s
        while not ready():
            if not self.alive:
                raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not {what} in {timeout_s:.0f} s:\n{self.tail()}")
            time.sleep(poll_s)

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc, grace_s=self.grace_s)
            self.proc = None


class Commands:
    """One-off commands (schema migrations, a bootstrap) that threads run side by side, all stopped at
    once when the start is interrupted: a thread pool cannot stop a running job, so without this an
    interrupted start waited for every migration to finish (about 30 s here)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._stopped = False

    def run(
        self,
        name: str,
        argv: list[str],
        log: Path,
        env: dict[str, str] | None = None,
        timeout_s: float = 300.0,
    ) -> None:
        """Run a command, its output appended to `log`; raises RuntimeError with its last lines when
        it fails, or when the commands were stopped."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            out.write(f"$ {' '.join(argv)}\n".encode())
            out.flush()
            with self._lock:
                if self._stopped:
                    raise RuntimeError(f"{name}: not started, the commands were stopped")
                # A session of its own: stopping it stops what it started.
                proc = subprocess.Popen(
                    argv,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env={**os.environ, **(env or {})},
                    start_new_session=True,
                )
                self._running.add(proc)
            try:
                returncode = proc.wait(timeout_s)
            except BaseException:  # its time is up, or this thread is interrupted
                terminate(proc, grace_s=2.0)
                raise
            finally:
                with self._lock:
                    self._running.discard(proc)
        if returncode != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise RuntimeError(f"{name} failed ({returncode}):\n{tail}")

    def stop(self) -> None:
        """Stop the running commands and refuse new ones."""
        with self._lock:
            self._stopped = True
            running = list(self._running)
        for proc in running:
            terminate(proc, grace_s=2.0)


def together(jobs: list[Callable[[], None]], commands: Commands, workers: int) -> None:
    """Run `jobs` (each running its commands through `commands`) `workers` at a time. The first that
    fails, or an interrupt, stops the others' commands and cancels the jobs not yet started; what
    failed first is raised."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        for future in [pool.submit(job) for job in jobs]:
            future.result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        commands.stop()
        raise
    finally:
        pool.shutdown(wait=True)
