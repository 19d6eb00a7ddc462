#!/usr/bin/env bash
# make test-dist WHEEL SDIST: the built distributions installed as a user installs them, each in a fresh venv
# under build/test-dist, and tested there:
#   the manylinux wheel with no C compiler in reach (CC=/bin/false, PATH = the venv's bin/ alone): the seed's
#     examples, a smoke suite, checks on the install itself (tests/installed) and the GEMM at every SIMD
#     width, then the smoke suite again under PYAUTODIFF_SIMD=avx2 and =baseline;
#   the sdist, with the compiler (building is its point): the same smoke suite.
# pytest runs in an empty directory, so `import pyautodiff` finds the venv's copy (tests/installed checks).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
wheel=$(realpath "$1") sdist=$(realpath "$2")
PYTHON=${PYTHON:-python3}
TOOLS_PY=${TOOLS_PY:-$root/.venv/bin/python}  # its pip installs into the test venvs
[[ $TOOLS_PY = /* ]] || TOOLS_PY=$PWD/$TOOLS_PY  # (the venv's own path: its symlink resolved is not the venv)
work=$root/build/test-dist
smoke=(tests/installed tests/test_examples.py tests/test_gradients.py tests/test_function.py
       tests/test_models.py tests/test_tape.py tests/test_layers.py tests/test_losses.py
       tests/test_no_numpy.py)

in_venv() {  # KIND [VAR=value...] CMD...: CMD in the venv KIND (wheel: its bin/ is the whole PATH, CC fails)
    local kind=$1; shift
    local env=(PATH="$work/$kind/bin:$PATH")
    [ "$kind" = wheel ] && env=(PATH="$work/$kind/bin" CC=/bin/false CXX=/bin/false)
    (cd "$work/run" && env -u PYTHONPATH -u PYAUTODIFF_SIMD "${env[@]}" PYAUTODIFF_DIST="$kind" "$@")
}

install() {  # KIND FILE [pip options]: a fresh venv KIND with FILE, pytest and numpy
    local kind=$1 file=$2; shift 2
    echo "test-dist: installing $(basename "$file")"
    # no pip of its own and no .pyc up front: a third of the files to write (and to delete next time)
    "$PYTHON" -m venv --without-pip "$work/$kind"
    in_venv "$kind" "$TOOLS_PY" -m pip --python "$work/$kind/bin/python" install -q --disable-pip-version-check \
        --no-compile "$@" "$file" pytest numpy
}

smoke() {  # KIND SIMD [tests]: the smoke suite (and tests) in the venv KIND; SIMD "": the CPU's widest
    local kind=$1 simd=$2; shift 2
    echo "test-dist: the $kind's smoke suite, PYAUTODIFF_SIMD=${simd:-(unset)}"
    in_venv "$kind" ${simd:+PYAUTODIFF_SIMD=$simd} python -m pytest -q "${smoke[@]/#/$root/}" "$@"
}

rm -rf "$work" && mkdir -p "$work/run"
install wheel "$wheel" --only-binary=:all:
smoke wheel "" "$root/tests/test_kernels.py::test_matmul_every_simd_width"
smoke wheel avx2
smoke wheel baseline
install sdist "$sdist"
smoke sdist ""
echo "test-dist: the wheel (no compiler) and the sdist install and pass"
