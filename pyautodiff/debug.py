"""Numerics checks: turn the first NaN or infinity into an error naming the op that produced it.

    ad.debug.enable_check_numerics()    # every op checks its float outputs (one C pass over each)
    ad.debug.check_numerics(t, "loss")  # one tensor, here and in the replays of a Function

As with tf.debugging.enable_check_numerics the switch is process-wide; a Function traced with it on
replays the checks, and one traced with it off is traced again (the switch is part of its signature).
Disabled, the cost is one flag test per op.
"""

from .errors import NumericsError
from .ops import _core
from .tensor import Tensor, as_tensor


def check_numerics(tensor, message: str) -> Tensor:
    """tensor itself when it holds no NaN or infinity; otherwise NumericsError carrying message."""
    t = as_tensor(tensor, None, "check_numerics")
    if _core.nonfinite(f"check_numerics({message!r})", t):
        raise NumericsError(f"check_numerics: {message}: tensor {t.shape} {t.dtype} holds NaN or inf")
    return t


def enable_check_numerics() -> None:
    _core.check_numerics = True


def disable_check_numerics() -> None:
    _core.check_numerics = False


def is_check_numerics_enabled() -> bool:
    return _core.check_numerics


__all__ = ["NumericsError", "check_numerics", "disable_check_numerics", "enable_check_numerics",
           "is_check_numerics_enabled"]
