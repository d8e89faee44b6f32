"""The process that holds a running testbed (`wanstack testbed up`): it starts the testbed, writes
`state.json` in its folder once it is ready, and stops everything when it gets SIGTERM or SIGINT
(`wanstack testbed down`), or when starting fails. Its progress lines go to its standard output.

    python -m wanstack.testbed.supervisor FOLDER SCENARIO [EDGES]
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from wanstack.scenario.load import load
from wanstack.testbed.testbed import Testbed

STATE = "state.json"


def main() -> None:
    """Start the testbed of SCENARIO under FOLDER (its first EDGES compute sites when given), write
    `state.json` once it is ready, and hold it until SIGTERM or SIGINT; then stop everything and remove
    `state.json` and the services' files (kept, for their logs, when starting failed)."""
    folder, scenario = Path(sys.argv[1]), sys.argv[2]
    edges = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)

    infra = load(scenario)
    files = folder / "files"
    try:
        with Testbed(infra, edges=edges, root=files, say=say) as testbed:
            state = testbed.describe()
            state |= {"pid": os.getpid(), "scenario": scenario, "ready_s": time.monotonic() - started}
            (folder / STATE).write_text(json.dumps(state, indent=2), encoding="utf-8")
            say("ready")
            while True:
                signal.pause()  # SIGTERM and SIGINT unwind the `with` (lab.processes.exit_on_sigterm)
    except (SystemExit, KeyboardInterrupt):
        shutil.rmtree(files, ignore_errors=True)  # stopped as asked: nothing to keep
        raise
    except BaseException:
        say(f"failed: the services' logs are in {files / 'log'}")
        raise
    finally:
        (folder / STATE).unlink(missing_ok=True)
        say("stopped")


if __name__ == "__main__":
    main()
