#!/usr/bin/env bash
# The test suite as `make unit-parallel` runs it, in three pytest sessions (CI runs `make test`: one session):
#
# 1. The tests marked `quiet` (they compare CPU-bound figures with each other: calls back to back
#    against calls apart) first, with nothing else running.
# 2. The other tests marked `timing` (they assert wall-clock figures, or run the real bench and check
#    its latencies) at normal priority, while
# 3. every other test runs beside them at the lowest priority (nice 19): the kernel gives it only the
#    CPU the timing tests leave, which is most of it (the bench mostly waits on its WAN delays), so
#    the suite takes the longer of the two, not their sum.
#
# Why `quiet` stands apart: a CI run of 2026-12-03 with every bench test beside the nice-19 session
# measured calls back to back at 6.8 ms and 50 ms apart at 6.7 (alone: about 3 and 5 ms).
#
# Each session has its own temporary folder; the third one's output is printed after the others'.
# Any of them failing, or running no test, fails the whole.
set -uo pipefail
bin="${1:-.venv/bin}"
shift || true
work="$(mktemp -d "${TMPDIR:-/tmp}/wanstack-tests-XXXXXX")"
rest_pid=""
cleanup() {
    if [ -n "$rest_pid" ] && kill -0 "$rest_pid" 2>/dev/null; then
        kill -INT "$rest_pid" 2>/dev/null
        wait "$rest_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== tests that need the machine to themselves (alone) =="
"$bin/pytest" -q -m quiet --basetemp "$work/quiet" "$@"
quiet_rc=$?

nice -n 19 "$bin/pytest" -q -m "not timing and not quiet" --basetemp "$work/rest" -p no:cacheprovider "$@" \
    > "$work/rest.log" 2>&1 &
rest_pid=$!

echo
echo "== tests that time (normal priority; the others run meanwhile at nice 19) =="
"$bin/pytest" -q -m "timing and not quiet" --basetemp "$work/timing" "$@"
timing_rc=$?

wait "$rest_pid"
rest_rc=$?
rest_pid=""
echo
echo "== the other tests (nice 19, beside the second) =="
cat "$work/rest.log"
echo
echo "tests alone: exit $quiet_rc; tests that time: exit $timing_rc; the others: exit $rest_rc"
[ "$quiet_rc" -eq 0 ] && [ "$timing_rc" -eq 0 ] && [ "$rest_rc" -eq 0 ]
