#!/usr/bin/env bash
# The Python `face_recognition` the benchmarks compare against, in target/bench/fr-venv (dlib is
# built from source the first time: ~15 min on 2 cores). Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
fr=$PWD/target/bench/fr-venv/bin/python
if ! "$fr" -c 'import face_recognition' 2>/dev/null; then
  python3 -m venv target/bench/fr-venv
  target/bench/fr-venv/bin/pip install --quiet cmake==4.4.5 numpy==2.4.6 pillow==13.0.0 >&2
  PATH=$PWD/target/bench/fr-venv/bin:$PATH target/bench/fr-venv/bin/pip install --quiet \
    dlib==20.0.1 face_recognition==1.3.0 face-recognition-models==0.3.0 >&2
fi
echo "$fr"
