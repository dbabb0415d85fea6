#!/usr/bin/env bash
# Run the real-TensorFlow oracle over test/oracle/cases/*.freeze.json and write
# test/oracle/observations/<case>.json plus test/oracle/SUMMARY.md.
#
#   scripts/run-oracle.sh                 # all cases (venvs are created by make-fixtures.sh if missing)
#   scripts/run-oracle.sh CASE [CASE...]  # only these cases (name or path)
#   scripts/run-oracle.sh --cases         # also rewrite the case files from python/oracle/make_cases.py
#
# tf1-graph and tf2-keras cases run in ${FI_VENV_HOME:-$HOME/.cache/freeze-inspector/venvs}/tf215,
# keras3 cases in .../tf221. Each case runs in its own Python process.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_HOME="${FI_VENV_HOME:-$HOME/.cache/freeze-inspector/venvs}"
export CUDA_VISIBLE_DEVICES=""
export TF_CPP_MIN_LOG_LEVEL=2
export PYTHONHASHSEED=0
export PYTHONDONTWRITEBYTECODE=1

if [ "${1:-}" = "--cases" ]; then
  shift
  python3 "$ROOT/python/oracle/make_cases.py"
fi
if [ ! -x "$VENV_HOME/tf215/bin/python" ] || [ ! -x "$VENV_HOME/tf221/bin/python" ]; then
  bash "$ROOT/scripts/make-fixtures.sh" --venvs-only
fi

status=0
# the two venvs run in parallel (each case is one process; 2 cores)
"$VENV_HOME/tf215/bin/python" "$ROOT/python/oracle/oracle.py" "$@" > "${TMPDIR:-/tmp}/fi-oracle-215.log" 2>&1 &
P1=$!
"$VENV_HOME/tf221/bin/python" "$ROOT/python/oracle/oracle.py" "$@" > "${TMPDIR:-/tmp}/fi-oracle-221.log" 2>&1 &
P2=$!
wait "$P1" || status=1
wait "$P2" || status=1
cat "${TMPDIR:-/tmp}/fi-oracle-215.log" "${TMPDIR:-/tmp}/fi-oracle-221.log" | grep -E '^oracle:|FAILED|Error' || true
python3 "$ROOT/python/oracle/summarize.py"
exit $status
