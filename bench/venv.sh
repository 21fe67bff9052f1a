#!/usr/bin/env bash
# Makes bench/.venv with the pinned ONNX Runtime, OpenVINO, onnx and numpy (once; again
# when the pins change) and prints its python's path.  Used by bench/run.sh and by the
# Python example's test (scripts/test-python-example.sh).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
# Pinned so runs on different days compare the same ORT.
PINS=(onnxruntime==1.31.1 numpy==2.4.6 onnx==1.23.2 openvino==2026.4.1)
PY="${BENCH_PYTHON:-python3}"

if [[ ! -x "$VENV/bin/python" ]] || [[ "$(cat "$VENV/.pins" 2>/dev/null)" != "${PINS[*]}" ]]; then
  echo "bench: creating $VENV with ${PINS[*]}" >&2
  "$PY" -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet "${PINS[@]}" >&2
  echo "${PINS[*]}" > "$VENV/.pins"
fi
echo "$VENV/bin/python"
