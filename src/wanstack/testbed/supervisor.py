"""The process that holds a running testbed (`wanstack testbed up`): it starts the testbed, writes
`state.json` in its folder once it is ready, and stops everything when it gets SIGTERM or SIGINT
(`wanstack testbed down`), or when starting fails. Its progress lines go to its standard output.

    python -m wanstack.testbed.supervisor FOLDER SCENARIO [EDGES [STARTER_PID]]

Until the testbed is ready it watches the process that started it (STARTER_PID, `testbed up`): if
that one dies (killed, its terminal closed), nobody would ever take the testbed down, so it stops.
SIGINT, SIGTERM and SIGHUP stop it whatever dispositions it inherited (`lab.processes.interruptible`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from wanstack.lab.processes import interruptible, pid_alive
from wanstack.scenario.load import load
from wanstack.testbed.testbed import Testbed

STATE = "state.json"


def main() -> None:
    """Start the testbed of SCENARIO under FOLDER (its first EDGES compute sites when given), write
    `state.json` once it is ready, and hold it until SIGTERM or SIGINT; then stop everything and remove
    `state.json` and the services' files (kept, for their logs, when starting failed)."""
    folder, scenario = Path(sys.argv[1]), sys.argv[2]
    edges = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None
    starter = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else None
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)

    infra = load(scenario)
    files = folder / "files"
    ready, orphaned = threading.Event(), threading.Event()
    if starter is not None:
        threading.Thread(target=_watch, args=(starter, ready, orphaned, say), daemon=True).start()
    with interruptible():
        try:
            with Testbed(infra, edges=edges, root=files, say=say) as testbed:
                state = testbed.describe()
                state |= {"pid": os.getpid(), "scenario": scenario, "ready_s": time.monotonic() - started}
                ready.set()
                (folder / STATE).write_text(json.dumps(state, indent=2), encoding="utf-8")
                say("ready")
                while True:
                    signal.pause()  # SIGINT, SIGTERM and SIGHUP unwind the `with` (KeyboardInterrupt)
        except (SystemExit, KeyboardInterrupt):
            # Stopped as asked: nothing to keep; and with its starter gone, nobody is left to remove
            # the folder (its log and pid file): all of it goes.
            shutil.rmtree(folder if orphaned.is_set() else files, ignore_errors=True)
            raise
        except BaseException:
            say(f"failed: the services' logs are in {files / 'log'}")
            raise
        finally:
            (folder / STATE).unlink(missing_ok=True)
            say("stopped")


def _watch(
    starter: int, ready: threading.Event, orphaned: threading.Event, say: Callable[[str], None]
) -> None:
    """Until `ready`, check every half second that the process `starter` lives; when it is gone, set
    `orphaned` and stop this process as `testbed down` would (SIGTERM to itself: the main thread
    unwinds)."""
    while not ready.wait(0.5):
        if os.getppid() != starter and not pid_alive(starter):
            say(f"the process that started the testbed ({starter}) is gone: stopping")
            orphaned.set()
            os.kill(os.getpid(), signal.SIGTERM)
            return


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # stopped as asked (SIGINT, SIGTERM, SIGHUP): said above, no traceback
        sys.exit(130)
