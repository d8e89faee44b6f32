#!/usr/bin/env bash
# The test suite as `make test` runs it: two pytest sessions at once.
#
# - The tests marked `timing` (they assert wall-clock figures, or run the real bench, whose latencies
#   they check) run alone at normal priority.
# - Every other test runs beside them at the lowest priority (nice 19): the kernel gives it only the
#   CPU the timing tests leave, which is most of it (the bench mostly waits on its WAN delays), so the
#   timing tests see an idle machine and the suite takes the longer of the two, not their sum.
#
# Each session has its own temporary folder; the quieter one's output is printed after the other's.
# Either one failing, or running no test, fails the whole.
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

nice -n 19 "$bin/pytest" -q -m "not timing" --basetemp "$work/rest" -p no:cacheprovider "$@" \
    > "$work/rest.log" 2>&1 &
rest_pid=$!

echo "== tests that time (alone, normal priority; the others run meanwhile at nice 19) =="
"$bin/pytest" -q -m timing --basetemp "$work/timing" "$@"
timing_rc=$?

wait "$rest_pid"
rest_rc=$?
rest_pid=""
echo
echo "== the other tests (nice 19, beside the first) =="
cat "$work/rest.log"
echo
echo "tests that time: exit $timing_rc; the others: exit $rest_rc"
[ "$timing_rc" -eq 0 ] && [ "$rest_rc" -eq 0 ]
