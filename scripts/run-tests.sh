#!/usr/bin/env bash
# The test suite as `make test` (and so CI) runs it, in two pytest sessions, one after the other:
#
# 1. The tests marked `timing` or `quiet` (they assert wall-clock figures, compare CPU-bound figures
#    with each other, or count what a busy machine could shift), one at a time with nothing beside
#    them: the machine is theirs, as in a single session.
# 2. Every other test on every core (pytest-xdist, a module per worker at a time, so that a module's
#    Keystone or broker is started once): none of them times, so a neighbour slows them but cannot
#    make them fail.
#
# Why not both sessions at once: tried as `make unit-parallel` on 2026-12-03 (the timing tests at
# normal priority beside the others at nice 19), four CI runs on this 2-core machine each had one
# timing test fail, a different one each time.
#
# Each session has its own temporary folder. Both run whatever the first gives; either failing, or
# running no test (pytest's exit 5), fails the whole. So does anything the tests leave behind: every
# process they start carries WANSTACK_TEST_RUN (its environment, inherited), every temporary file goes
# under the run's own TMPDIR; after both sessions, scripts/leftovers.py lists, removes and fails on
# what is still there.
set -uo pipefail
bin="${1:-.venv/bin}"
shift || true
work="$(mktemp -d "${TMPDIR:-/tmp}/wanstack-tests-XXXXXX")"
trap 'rm -rf "$work"' EXIT
export WANSTACK_TEST_RUN="${work##*/}"
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"
trap 'exit 130' INT TERM

echo "== tests that time, one at a time =="
"$bin/pytest" -q -m "timing or quiet" --basetemp "$work/timing" "$@"
timing_rc=$?

echo
echo "== the other tests, on every core =="
"$bin/pytest" -q -m "not timing and not quiet" -n auto --dist loadscope --no-loadscope-reorder --basetemp "$work/rest" "$@"
rest_rc=$?

echo
echo "== what the tests left behind =="
"$bin/python" scripts/leftovers.py "$WANSTACK_TEST_RUN" "$TMPDIR"
left_rc=$?

echo
echo "tests that time: exit $timing_rc; the others: exit $rest_rc; left behind: exit $left_rc"
[ "$timing_rc" -eq 0 ] && [ "$rest_rc" -eq 0 ] && [ "$left_rc" -eq 0 ]
