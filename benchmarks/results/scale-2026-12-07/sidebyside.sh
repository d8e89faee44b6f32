#!/bin/bash
# The code before issue 38 (132a001) and after it, alternating, one process per run, nothing else
# running: scale.py's issue-38 cases on 7d568e7's station defaults (scale_oldparams.py, so that both
# sides simulate the same control plane) and pingpong.py. Run from the repository's root:
#   bash benchmarks/results/scale-2026-12-07/sidebyside.sh OLD_CHECKOUT OUT
# where OLD_CHECKOUT holds 132a001's src/ and benchmarks/ (git archive 132a001 src benchmarks).
set -u
PY=$PWD/.venv/bin/python
old=$1
out=$2
here=$PWD
script=$here/benchmarks/results/scale-2026-12-07/scale_oldparams.py
: > "$out"
for i in 1 2; do
  for side in old new; do
    if [ "$side" = old ]; then src=$old; else src=$here; fi
    cases=("1000 centralized" "1000 cells-shared")
    if [ "$i" = 1 ]; then cases+=("10000 cells-shared"); fi  # the million-host case, once
    for case in "${cases[@]}"; do
      r=$(cd "$src" && PYTHONPATH=$src/src $PY "$script" $case)
      echo "scale $side $case $r" >> "$out"
    done
    r=$(cd "$src" && PYTHONPATH=$src/src $PY benchmarks/pingpong.py --pairs 100 10000 100000 --messages 1000000 2>&1 | tail -3 | tr '\n' ' ')
    echo "pingpong $side $r" >> "$out"
  done
done
echo done >> "$out"
