"""pyautodiff: automatic differentiation whose math runs in hand-written C kernels.

The public API is documented in docs/api.md; `import pyautodiff as ad`.
"""

import os as _os
import tomllib as _tomllib
from importlib.metadata import version as _installed_version


def _version() -> str:
    """The version's one source is pyproject.toml: read there in a source tree (so an edit shows at once,
    whatever else is installed), else from the installed distribution's metadata (wheels, Pyodide)."""
    pyproject = _os.path.join(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))), "pyproject.toml")
    if _os.path.exists(pyproject):
        with open(pyproject, "rb") as f:
            project = _tomllib.load(f).get("project", {})
        if project.get("name") == __name__:
            return project["version"]
    return _installed_version(__name__)


__version__ = _version()

from . import _backend, _gemm_tune
from .ops import *  # noqa: F401,F403 - the op table is the API
from .ops import __all__ as _ops_all
from .ops._core import as_int as _as_int
from .tape import GradientTape, stop_gradient
from .function import Function, function  # ad.function is the decorator, not the module
from .autodiff import custom_gradient, jvp
from .tensor import Tensor, Variable, array, constant, full, ones, ones_like, zeros, zeros_like


def backend_info() -> dict:
    return {**_backend.info, "simd": _backend.lib.ad_simd_bytes() > 0, "simd_bytes": _backend.lib.ad_simd_bytes(),
            "l2_bytes": _backend.lib.ad_l2_bytes(), "gemm_b_in_place": bool(_backend.lib.ad_gemm_b_in_place()),
            "gemm": _gemm_tune.blocking()[0], "threads": _backend.lib.ad_get_num_threads(), "version": __version__}


if _gemm_tune.blocking()[1] < 0:  # read once by the kernels: a typo must not pass for the cache model's blocks
    raise ValueError(f"PYAUTODIFF_GEMM_BLOCKING={_os.environ.get('PYAUTODIFF_GEMM_BLOCKING')!r}: expects the GEMM's "
                     f"blocks as three integers 'mc,kc,nc' from 1 to {_backend.C.AD_GEMM_BLOCK_MAX} (e.g. "
                     f"'144,256,4032'), or leave it unset for the blocks derived from this CPU's caches")


def set_num_threads(n: int) -> None:
    """Threads the kernels may use: 1 to four per core (more only oversubscribes the cores)."""
    n = _as_int("set_num_threads", n, "the thread count")
    most = min(4 * (_os.cpu_count() or 1), _backend.C.AD_MAX_THREADS)
    if not 1 <= n <= most:
        raise ValueError(f"set_num_threads: expects 1 to {most} threads ({_os.cpu_count()} cores), got {n}")
    if _backend.lib.ad_set_num_threads(n):
        raise ValueError(f"set_num_threads: {n} threads are not supported here")


def get_num_threads() -> int:
    return _backend.lib.ad_get_num_threads()


from . import (callbacks, constraints, data, datasets, debug, initializers, layers, losses, metrics,  # noqa: E402
               models, optimizers, random, regularizers, saving)
from .functional import Input  # noqa: E402
from .models import Model, Sequential  # noqa: E402
from .builder import NeuralNetworks  # noqa: E402

__all__ = sorted(set(_ops_all) | {"GradientTape", "Variable", "Tensor", "array", "constant", "stop_gradient",
                                   "backend_info", "custom_gradient", "jvp", "set_num_threads", "get_num_threads",
                                   "NeuralNetworks", "Function", "function", "Input", "Model", "Sequential",
                                   "models", "layers", "losses", "optimizers", "metrics", "data", "datasets",
                                   "debug", "callbacks", "constraints", "random", "regularizers", "saving"})
