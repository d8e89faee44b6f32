#!/bin/bash
# scale.py's sized cells (100k and 1M hosts, fluid, one simulated hour), the code at the start of the
# session (BASE) and now, alternating, one process per run, nothing else running:
#   bash benchmarks/results/growth-2026-12-07/sidebyside.sh BASE_CHECKOUT OUT
set -u
PY=$PWD/.venv/bin/python
base=$1
out=$2
here=$PWD
: > "$out"
for i in 1 2 3; do
  for side in base new; do
    if [ "$side" = base ]; then src=$base; else src=$here; fi
    echo "# $side ($(cd "$src" && git rev-parse --short HEAD)) round $i" >> "$out"
    (cd "$src" && PYTHONPATH=$src/src $PY benchmarks/scale.py 2>/dev/null | tail -3) >> "$out"
  done
done
