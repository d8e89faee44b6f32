#!/bin/bash
# Old (7d568e7, before issue 34) and new code alternating, one process per run.
PY=/work/main/.venv/bin/python
out=/tmp/ana/sidebyside.txt
: > $out
for i in 1 2 3; do
  for side in old new; do
    if [ $side = old ]; then src=/tmp/old; else src=/work/main; fi
    for model in centralized cells-shared; do
      r=$(cd $src && PYTHONPATH=$src/src $PY benchmarks/scale.py --one 1000 $model 3600 1 1)
      echo "scale $side $model $r" | python3 -c "import sys,json; l=sys.stdin.read(); a=l.split(' ',3); d=json.loads(a[3]); print(a[0],a[1],a[2],d['wall_s'],d['events'],d['rss_mb'])" >> $out
    done
    r=$(cd $src && PYTHONPATH=$src/src $PY benchmarks/pingpong.py --pairs 100 10000 100000 --messages 1000000 2>&1 | tr '\n' ' ')
    echo "pingpong $side $r" >> $out
  done
done
echo done >> $out
