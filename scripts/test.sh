#!/usr/bin/env bash
# The whole test suite. pytest's exit code 5 ("no tests were collected") is a failure here:
# a run that tested nothing must never pass.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
# The whole suite (no arguments) runs on TEST_WORKERS processes (pytest-xdist; default 2, the
# machine's cores): each worker has its own test database, seeded once, and every Redis test its
# own key prefix. TEST_WORKERS=0 runs in one process; a run with arguments is one process too.
parallel=()
if [ "$#" -eq 0 ] && [ "${TEST_WORKERS:-2}" != "0" ]; then
  parallel=(-n "${TEST_WORKERS:-2}")
fi
"$BIN/python" -m pytest "${parallel[@]}" "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests — failing" >&2
  exit 1
fi
exit "$status"
