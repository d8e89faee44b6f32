"""`benchmarks/scale.py --one SITES MODEL 3600 1 1` with the station defaults of 7d568e7 (before
issue 35's measured ones), so that the old code and the new one simulate the same control plane
(`sidebyside.sh`). Run from the repository's root. The script itself is
`../scale-2026-12-07/scale_oldparams.py`, which takes either side's `scale.py`; this name is kept for
the record of 2026-12-07 (b)."""

from __future__ import annotations

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(
        str(Path(__file__).parents[1] / "scale-2026-12-07" / "scale_oldparams.py"), run_name="__main__"
    )
