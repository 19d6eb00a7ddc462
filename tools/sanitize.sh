#!/usr/bin/env bash
# Build the C kernels with AddressSanitizer + UndefinedBehaviorSanitizer into build/sanitize/ (a copy of
# the sources, its own venv; the in-tree build is untouched) and run the kernel, op and Function tests on it.
# Fails on any sanitizer report. Usage: tools/sanitize.sh [pytest args...]   (default: the test files below);
# SANITIZE_PYTHON picks the interpreter whose site-packages provide cffi/numpy/pytest (default: .venv).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build/sanitize
SRC=$OUT/src
VENV=$OUT/venv
BASE_PY=${SANITIZE_PYTHON:-$ROOT/.venv/bin/python}
TESTS=(tests/test_kernels.py tests/test_gradients.py tests/test_tape.py tests/test_errors.py
       tests/test_errors_api.py tests/test_properties.py tests/test_threads.py tests/test_numerics.py
       tests/test_weights_fuzz.py tests/test_sanitize_support.py
       tests/test_pool.py tests/test_conv.py tests/test_conv_more.py tests/test_conv_speed.py
       tests/test_indexing.py tests/test_random.py tests/test_recurrent.py tests/test_rnn_speed.py
       tests/test_gemm_blocking.py tests/test_gemm_autotune.py tests/test_dtypes_ext.py tests/test_dtypes_f16.py
       tests/test_dtype_matrix.py tests/test_hardening_function.py)  # Function replays after churn: a plan that lost a buffer reads freed memory
[ $# -gt 0 ] && TESTS=("$@")
START=$(date +%s)

SAN="-fsanitize=address,undefined -fsanitize=float-cast-overflow -fno-sanitize-recover=all"
export PYAUTODIFF_CFLAGS="$SAN -fno-omit-frame-pointer -g -O1"
export PYAUTODIFF_LDFLAGS="$SAN"

# 1. a snapshot of the sources (others may be editing the tree; never the in-tree .so or generated C)
rm -rf "$SRC" && mkdir -p "$SRC"
cp "$ROOT"/setup.py "$ROOT"/pyproject.toml "$ROOT"/README.md "$SRC"/
cp -r "$ROOT"/csrc "$ROOT"/pyautodiff "$ROOT"/tests "$SRC"/
find "$SRC" \( -name '_kernels*.so' -o -name '_kernels.c' -o -name '*.o' -o -name __pycache__ \) -prune \
    -exec rm -rf {} +

# 2. a venv that sees the main venv's packages (cffi, numpy, pytest, hypothesis, setuptools, pip) through
#    symlinks, minus the main venv's own editable pyautodiff, so pip cannot touch the main venv
if [ ! -x "$VENV/bin/python" ]; then
    "$BASE_PY" -m venv --without-pip "$VENV"
fi
BASE_SITE=$("$BASE_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
DEPS=$OUT/deps
rm -rf "$DEPS" && mkdir -p "$DEPS"
for entry in "$BASE_SITE"/*; do
    case $(basename "$entry") in
        pyautodiff* | __editable__* | *.pth | __pycache__) ;;
        *) ln -s "$entry" "$DEPS/" ;;
    esac
done
echo "$DEPS" > "$SITE/zz_main_venv_packages.pth"

# 3. the sanitized extension, and the allocator shim that gives ASan exact tensor bounds
(cd "$SRC" && "$VENV/bin/python" -m pip --disable-pip-version-check -q install --no-build-isolation \
    --no-deps -e . >"$OUT/build.log" 2>&1) || { cat "$OUT/build.log"; exit 1; }
gcc -shared -fPIC -O1 -g -o "$OUT/libsanitize_alloc.so" "$ROOT/tools/sanitize_alloc.c"
BUILT=$(date +%s)

# 4. the tests, from the copy (cwd first on sys.path: `import pyautodiff` is the sanitized build)
LIBASAN=$(gcc -print-file-name=libasan.so)
LIBUBSAN=$(gcc -print-file-name=libubsan.so)
RUN=(env LD_PRELOAD="$LIBASAN:$LIBUBSAN:$OUT/libsanitize_alloc.so"
     ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1
     UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
     PYAUTODIFF_SANITIZE=1 PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python")
cd "$SRC"
KERNELS=$("${RUN[@]}" -c 'import pyautodiff._kernels as k; print(k.__file__)')
case $KERNELS in "$SRC"/*) ;; *) echo "sanitize: imported $KERNELS, not the sanitized build" >&2; exit 1 ;; esac
grep -q __asan_init "$KERNELS" || { echo "sanitize: $KERNELS is not instrumented" >&2; exit 1; }

LOG=$OUT/test.log
set +e
"${RUN[@]}" -m pytest -q -p no:cacheprovider "${TESTS[@]}" 2>&1 | tee "$LOG"
STATUS=${PIPESTATUS[0]}
set -e
END=$(date +%s)
if grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$LOG"; then
    echo "sanitize: sanitizer report in $LOG" >&2
    STATUS=1
fi
echo "sanitize: build $((BUILT - START)) s, tests $((END - BUILT)) s, exit status $STATUS"
exit "$STATUS"
