#!/bin/bash
# Old (7d568e7, before issue 34) and new code alternating, one process per run; the new code with the
# old code's station defaults (scale_oldparams.py), so that both simulate the same control plane.
PY=/work/main/.venv/bin/python
out=/tmp/ana/sidebyside2.txt
: > $out
for i in 1 2; do
  for side in old new; do
    for model in centralized cells-shared; do
      if [ $side = old ]; then
        r=$(cd /tmp/old && PYTHONPATH=/tmp/old/src $PY benchmarks/scale.py --one 1000 $model 3600 1 1 | python3 -c "import sys,json; d=json.load(sys.stdin); print(d['wall_s'], d['events'], d['rss_mb'])")
      else
        r=$(cd /work/main && PYTHONPATH=/work/main/src $PY /tmp/ana/scale_oldparams.py 1000 $model | python3 -c "import sys,json; d=json.load(sys.stdin); print(d['wall_s'], d['events'], d['rss_mb'], d['boots'])")
      fi
      echo "scale $side $model $r" >> $out
    done
    if [ $side = old ]; then src=/tmp/old; else src=/work/main; fi
    r=$(cd $src && PYTHONPATH=$src/src $PY benchmarks/pingpong.py --pairs 100 10000 100000 --messages 1000000 2>&1 | tr '\n' ' ')
    echo "pingpong $side $r" >> $out
  done
done
echo done >> $out
