"""docs/api.md and the code cannot drift apart: every public name is documented there as `ad.<name>` (or
`ad.<module>.<name>`), every `ad.` name it documents exists, and what it lists as "Not yet" does not exist yet."""

import inspect
import pathlib
import re
import sys

import pytest

import pyautodiff as ad

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
if sys.platform == "emscripten" and not DOCS.is_dir():  # a Pyodide run without docs/ mounted
    pytest.skip("docs/ is not mounted in this environment", allow_module_level=True)

TEXT = (DOCS / "api.md").read_text(encoding="utf-8")
REFERENCE, _, NOT_YET = TEXT.partition("\n## Not yet\n")
SUBMODULES = ("layers", "losses", "optimizers", "metrics", "data", "datasets", "debug", "initializers", "models",
              "callbacks", "random", "regularizers", "saving")
_AD_NAME = re.compile(r"(?<![\w.])ad((?:\.\w+)+)")


def ad_names(text: str) -> set:
    """The dotted `ad.` names inside backticks: "`ad.layers.Dense(units)`" gives "layers.Dense"."""
    return {m[1:] for span in re.findall(r"`([^`]+)`", text) for m in _AD_NAME.findall(span)}


def public_names(module) -> list:
    """The module's __all__, or else the public classes and functions defined in it (not imported)."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, value in vars(module).items() if not name.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__ == module.__name__]


def resolve(dotted: str):
    obj = ad
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def test_the_helpers_read_names_as_intended():
    assert ad_names("`ad.layers.Dense(units)`, `@ad.function`, `with ad.GradientTape() as t:`, `load.x`, `ad`") \
        == {"layers.Dense", "function", "GradientTape"}
    assert ad_names("ad.exp outside backticks") == set()
    assert "NDArrayDataset" in public_names(ad.data)
    assert "as_tensor" not in public_names(ad.data)  # imported there, not defined


@pytest.mark.parametrize("module", ["pyautodiff"] + [f"pyautodiff.{m}" for m in SUBMODULES])
def test_every_public_name_is_documented(module):
    mod = sys.modules[module]
    prefix = module.removeprefix("pyautodiff").lstrip(".")
    documented = ad_names(REFERENCE)
    names = public_names(mod)
    assert names, f"{module} has no public names"
    missing = [n for n in names if (f"{prefix}.{n}" if prefix else n) not in documented]
    assert not missing, f"docs/api.md does not document {module}: {missing}"


def test_the_builder_facade_is_documented():
    nn = ad.NeuralNetworks()
    documented = ad_names(REFERENCE)
    missing = [n for n in vars(nn.gradient()) if n not in documented]
    assert not missing, f"nn.gradient() offers names docs/api.md does not document: {missing}"
    members = [n for n in dir(ad.NeuralNetworks) if not n.startswith("_")]
    assert "gradient" in members
    spans = re.findall(r"`([^`]+)`", REFERENCE)
    missing = [n for n in members if not any(re.match(rf"nn\.{n}\b", s) for s in spans)]
    assert not missing, f"docs/api.md does not document NeuralNetworks: {missing}"


def test_every_documented_name_exists():
    names = ad_names(REFERENCE)
    assert len(names) > 100
    unknown = []
    for dotted in sorted(names):
        try:
            resolve(dotted)
        except AttributeError:
            unknown.append(dotted)
    assert not unknown, f"docs/api.md documents names the code does not have: {unknown}"


def test_not_yet_lists_only_what_is_missing():
    names = ad_names(NOT_YET)
    assert names, "the Not yet section names no `ad.` functions"
    present = []
    for dotted in sorted(names):
        try:
            resolve(dotted)
            present.append(dotted)
        except AttributeError:
            pass
    assert not present, f"docs/api.md lists as 'Not yet' what now exists (document it above): {present}"
