#!/usr/bin/env bash
# The whole test suite. pytest's exit code 5 ("no tests were collected") is a failure here:
# a run that tested nothing must never pass.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
"$BIN/python" -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests — failing" >&2
  exit 1
fi
exit "$status"
