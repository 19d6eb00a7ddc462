"""Errors: a kernel's status as the exception the API promises, naming the op and its operands."""

from . import _backend as B

__all__ = ["NumericsError", "check", "describe", "not_float"]


class NumericsError(FloatingPointError, ValueError):
    """A NaN or an infinity where check_numerics looked; the message names the op or the check."""


def describe(*tensors) -> str:
    """'(2, 3) float32, (3,) float32': the shapes and dtypes of the tensors among the arguments."""
    return ", ".join(f"{t.shape} {t.dtype}" for t in tensors if hasattr(t, "shape") and hasattr(t, "dtype"))


def not_float(op: str, *tensors) -> TypeError:
    """The error of an op that takes float32 or float64 tensors only (float16 ones are stored, not computed on)."""
    if any(getattr(t, "dtype", None) == "float16" for t in tensors):
        return TypeError(f"{op}: float16 tensors are storage only here (no op computes in half precision), got "
                         f"{describe(*tensors)}; cast them first: ad.cast(x, \"float32\")")
    return TypeError(f"{op}: expects float32 or float64 tensors, got {describe(*tensors)}")


def check(op: str, status: int, *operands) -> None:
    """Raise for a kernel's non-zero status, naming op and the operands' shapes and dtypes."""
    if not status:
        return
    desc = describe(*operands)
    if status == B.C.AD_ENONFINITE:  # a check_numerics entry of a replayed Function
        raise NumericsError(f"check_numerics: op {op!r} produced NaN or inf" + (f" ({desc})" if desc else ""))
    dtypes = {getattr(t, "dtype", None) for t in operands}
    if status == B.C.AD_EDTYPE and "bool" in dtypes:  # (as TensorFlow, no arithmetic on bool)
        raise TypeError(f"{op}: not defined for bool tensors ({desc}); cast them to a number first (ad.cast), or use "
                        f"the logical ops")
    if status == B.C.AD_EDTYPE and dtypes & {"int32", "int64", "float16"}:
        raise not_float(op, *operands)
    kind = {B.C.AD_EDTYPE: TypeError, B.C.AD_ENOMEM: MemoryError}.get(status, ValueError)
    what = {B.C.AD_EINDEX: "index out of range", B.C.AD_EDTYPE: "unsupported dtype",
            B.C.AD_ERANGE: "NaN, inf or a value out of range for the result's dtype"}.get(status, "invalid arguments")
    raise kind(f"{op}: {what} (kernel status {status}; operands: {desc or 'none'})")
