"""The examples run as scripts and print the seed's results."""

import os
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")
pytestmark = pytest.mark.skipif(sys.platform == "emscripten", reason="subprocesses are not available in Pyodide")


def run(name):
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, name)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "MPLBACKEND": "Agg"})
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_basic_usage():
    assert run("basic_usage.py").strip() == "c = 6 da = 3 db = 2"
