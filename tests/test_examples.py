"""The examples run as scripts and print the seed's results, natively and inside Pyodide."""

import contextlib
import io
import os
import re
import runpy
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")


def run(name: str) -> str:
    path = os.path.join(EXAMPLES, name)
    if not os.path.exists(path):
        pytest.fail(f"missing example {name}")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(path, run_name="__main__")
    return out.getvalue()


def test_basic_usage():
    assert run("basic_usage.py").strip() == "c = 6 da = 3 db = 2"


def test_train_with_tape_classifies_the_six_points():
    out = run("train_with_tape.py")
    assert "classified 6 of 6 points correctly" in out


def test_calculation_graph():
    assert run("calculation_graph.py").strip() == "z = 100 da = 60 db = 40"


def test_cnn_digits_reaches_97_percent():
    line = run("cnn_digits.py").strip().splitlines()[-1]
    found = re.fullmatch(r"test accuracy: ([\d.]+) on (\d+) held-out digits", line)
    assert found and int(found[2]) == 1797 // 4, line
    assert float(found[1]) >= 0.97, line


def test_functional_save_resumes_from_the_saved_model():
    out = run("functional_save.py")
    assert "restored model evaluates the same: True" in out and "best checkpoint loads: True" in out
    found = re.search(r"quadrant accuracy: ([\d.]+), distance mse: ([\d.]+)", out)
    assert found and float(found[1]) >= 0.9 and float(found[2]) < 0.1, out


@pytest.mark.skipif(sys.platform == "emscripten", reason="a minute of training natively, several in Pyodide")
def test_rnn_addition_reaches_95_percent():
    line = run("rnn_addition.py").strip().splitlines()[-1]
    found = re.fullmatch(r"exact-match accuracy: ([\d.]+) on (\d+) held-out sums", line)
    assert found and int(found[2]) == 2000, line
    assert float(found[1]) >= 0.95, line


@pytest.mark.skipif(sys.platform == "emscripten", reason="seconds natively, a minute in Pyodide")
def test_attention_counting_learns_the_count():
    line = run("attention_counting.py").strip().splitlines()[-1]
    found = re.fullmatch(r"held-out accuracy: ([\d.]+) on (\d+) sequences", line)
    assert found and int(found[2]) == 500, line
    assert float(found[1]) >= 0.95, line
