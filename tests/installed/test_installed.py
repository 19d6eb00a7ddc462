"""Checks on an installed distribution, run by `make test-dist` (tools/test_dist.sh) in a fresh venv beside
the smoke suite; PYAUTODIFF_DIST names what it installed there: "wheel" (no compiler on PATH) or "sdist"."""

import importlib.metadata
import os
import shutil
import sys
import sysconfig
import tomllib

import pytest

import pyautodiff as ad

KIND = os.environ.get("PYAUTODIFF_DIST")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = pytest.mark.skipif(KIND is None or sys.platform != "linux",
                                reason="make test-dist: an installed wheel or sdist on Linux")


def test_the_installed_package_is_the_one_under_test():
    import pyautodiff._kernels as kernels  # (native only: Pyodide collects this file too)
    site = sysconfig.get_paths()["platlib"]
    assert sys.prefix != sys.base_prefix, "not in the venv"
    for module in (ad, kernels):
        assert os.path.commonpath([module.__file__, site]) == site, (module.__file__, site)


def test_version_from_the_installed_metadata():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        expected = tomllib.load(f)["project"]["version"]
    assert ad.__version__ == ad.backend_info()["version"] == expected
    assert importlib.metadata.version("pyautodiff") == expected


def test_installed_from_the_right_distribution():
    tags = [line.split(": ", 1)[1] for line in importlib.metadata.distribution("pyautodiff").read_text(
        "WHEEL").splitlines() if line.startswith("Tag: ")]
    # the sdist installs through a wheel pip builds here (linux tag); the manylinux wheel is the repaired one
    assert all(("manylinux" in tag) == (KIND == "wheel") for tag in tags), tags
    assert all(tag.split("-")[1] == "abi3" for tag in tags), tags  # one wheel for every CPython from 3.11


@pytest.mark.skipif(KIND != "wheel", reason="the wheel's venv has no compiler; the sdist's needs one")
def test_no_compiler_in_reach():
    assert os.environ.get("CC") == "/bin/false"
    assert [cc for cc in ("cc", "gcc", "clang", "c99", "x86_64-linux-gnu-gcc") if shutil.which(cc)] == []


def test_widest_simd_the_cpu_has_capped_by_the_environment():
    with open("/proc/cpuinfo") as f:
        flags = next(line for line in f if line.startswith("flags")).split()
    best = 64 if "avx512f" in flags else 32 if {"avx2", "fma"} <= set(flags) else 16
    cap = {"avx2": 32, "baseline": 16}.get(os.environ.get("PYAUTODIFF_SIMD", ""), 64)
    assert ad.backend_info()["simd_bytes"] == min(best, cap)
    x = ad.array([[1.0, 2.0, 3.0]] * 40, dtype="float32")
    assert ad.matmul(x, ad.transpose(x)).tolist()[39][0] == 14.0
