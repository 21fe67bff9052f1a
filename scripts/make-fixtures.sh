#!/usr/bin/env bash
# Regenerates the committed ONNX fixtures in tests/models/ with Debian 12's
# reference exporters (python3-torch 1.13, python3-torchvision 0.14,
# python3-onnx 1.12 for /usr/bin/python3) and checks every case with
# onnxruntime from a PyPI venv.  See docs/FIXTURES.md.
#   scripts/make-fixtures.sh              small fixtures + ORT check
#   scripts/make-fixtures.sh --install    first apt/pip-install what is needed
#   FULLSIZE_DIR=/tmp/fullsize scripts/make-fixtures.sh
#                                         also export full-size vit_b_16/swin_t
#   ONNXC=build/onnxc scripts/make-fixtures.sh
#                                         also run onnxc dump/run on every case
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ORT_VENV:-/tmp/ortvenv}"

if [[ "${1:-}" == "--install" ]]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y \
    python3-torch python3-torchvision python3-onnx python3-numpy python3-venv
  python3 -m venv "$venv"
  "$venv/bin/pip" install onnxruntime numpy onnx
fi

/usr/bin/python3 -c 'import torch, torchvision, onnx' ||
  { echo "make-fixtures: need Debian python3-torch/-torchvision/-onnx (use --install)" >&2; exit 1; }
[[ -x "$venv/bin/python" ]] ||
  { echo "make-fixtures: no onnxruntime venv at $venv (use --install)" >&2; exit 1; }

# Exporter chatter (TracerWarnings) goes to a log; the summary lines stay.
log="$(mktemp /tmp/make-fixtures.XXXXXX.log)"
rm -rf "$root/tests/models"
/usr/bin/python3 "$root/examples/export/export_torchvision.py" "$root/tests/models" 2>"$log"
"$venv/bin/python" "$root/examples/export/verify_ort.py" "$root/tests/models"

if [[ -n "${FULLSIZE_DIR:-}" ]]; then
  /usr/bin/python3 "$root/examples/export/export_fullsize.py" "$FULLSIZE_DIR" 2>>"$log"
  "$venv/bin/python" "$root/examples/export/verify_ort.py" "$FULLSIZE_DIR" --tol 1e-3
fi
if [[ -n "${ONNXC:-}" ]]; then
  /usr/bin/python3 "$root/examples/export/check_onnxc.py" "$ONNXC" "$root/tests/models"
  if [[ -n "${FULLSIZE_DIR:-}" ]]; then
    /usr/bin/python3 "$root/examples/export/check_onnxc.py" "$ONNXC" "$FULLSIZE_DIR" --tol 1e-3
  fi
fi
echo "make-fixtures: done (exporter warnings in $log)"
