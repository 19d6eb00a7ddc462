"""The package imports and runs with numpy unimportable (as in Pyodide)."""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "numpy" or name.startswith("numpy."):
                raise ImportError("numpy is blocked for this test")
    sys.meta_path.insert(0, Block())
    import pyautodiff as ad
    assert "numpy" not in sys.modules
    a, b = ad.Variable(2.0), ad.Variable(3.0)
    with ad.GradientTape() as tape:
        c = ad.reduce_sum(ad.matmul(ad.array([[1.0, 2.0]]) * a, ad.array([[3.0], [4.0]])) * b)
    da, db = tape.gradient(c, [a, b])
    print(float(c), float(da), float(db))
    try:
        ad.array([1.0]).numpy()
    except ImportError:
        print("numpy() needs numpy")
    assert "numpy" not in sys.modules
""")


@pytest.mark.skipif(sys.platform == "emscripten", reason="subprocesses are not available in Pyodide")
def test_runs_without_numpy(tmp_path):
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["66.0 33.0 22.0", "numpy() needs numpy"]
