"""A Dask cluster on this machine, as separate processes: a `dask scheduler` and `dask worker`s on
loopback, as a user would start them on several machines. For trying `--scheduler` before a real
cluster, and for the tests and the sweep benchmark."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in reversed(procs):
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def local_cluster(workers: int, folder: Path, timeout_s: float = 60.0) -> Iterator[str]:
    """The scheduler's address once `workers` one-thread workers have joined; everything is stopped on
    the way out, even on failure. Logs go to `folder`."""
    from distributed import Client

    dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    if dask is None:
        raise RuntimeError("the `dask` command is missing: install wanstack with dask[distributed]")
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    # Dask's scratch space (its `temporary-directory`, else a `dask-scratch-space` left in the system's
    # temporary folder by the scheduler too) inside the cluster's folder: nothing outlives it.
    env = {**os.environ, "DASK_TEMPORARY_DIRECTORY": str(folder / "work")}
    try:
        with (folder / "scheduler.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    env=env,
                )
            )
        worker = [dask, "worker", address, "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard"]
        with (folder / "workers.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    [*worker, "--host", "127.0.0.1", "--local-directory", str(folder / "work")],
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    env=env,
                )
            )
        deadline = time.monotonic() + timeout_s
        with Client(address, timeout=f"{timeout_s:.0f}s") as client:  # type: ignore[no-untyped-call]
            while len(client.scheduler_info()["workers"]) < workers:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Dask workers did not join in {timeout_s:.0f} s; see {folder}")
                time.sleep(0.2)
        yield address
    finally:
        _stop(procs)
