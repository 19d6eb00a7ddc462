# pyautodiff: `make test` builds and tests everything from a fresh clone; `make demo` serves the web page.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
CSRC := $(wildcard csrc/*.c csrc/*.h)
PYSRC := $(shell find pyautodiff -name '*.py')

.PHONY: all venv build test test-native test-install clean

all: build

# the virtualenv with the build and test tools (no system packages needed natively)
$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel cffi
	$(PIP) install numpy pytest hypothesis safetensors
	touch $@

venv: $(VENV)/.stamp

# the C kernels as the cffi extension, installed in development mode
$(VENV)/.built: $(VENV)/.stamp $(CSRC) pyautodiff/_backend/build_cffi.py setup.py
	$(PIP) install --no-build-isolation -e .
	touch $@

build: $(VENV)/.built

test-native: build
	$(PY) -m pytest -q tests

# `pip install .` into a fresh venv, as a user would, then run the seed's first example with it
test-install:
	rm -rf build/install-venv && $(PYTHON) -m venv build/install-venv
	build/install-venv/bin/pip --disable-pip-version-check -q install .
	cd examples && ../build/install-venv/bin/python basic_usage.py | grep -q "c = 6 da = 3 db = 2"
	@echo "test-install: pip install . works"

test: test-native test-install

clean:
	rm -rf build dist $(VENV) pyautodiff/_kernels*.so pyautodiff/_kernels.c *.egg-info
