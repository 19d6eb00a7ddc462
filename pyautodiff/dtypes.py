"""The six dtypes: names, kernel codes, item sizes, struct formats, and how mixed operands promote.

float16 is a storage dtype (as half precision weights are kept): tensors of it are made, moved, indexed, saved
and cast, but no op computes on them (TensorFlow computes in half; here an op refuses float16 operands and asks for
ad.cast(x, "float32")), and gradients stop at them as at integers."""

from ._backend import C

FLOAT32, FLOAT64, INT32, INT64, BOOL, FLOAT16 = "float32", "float64", "int32", "int64", "bool", "float16"
CODE = {FLOAT32: C.AD_FLOAT32, FLOAT64: C.AD_FLOAT64, INT32: C.AD_INT32, INT64: C.AD_INT64, BOOL: C.AD_BOOL,
        FLOAT16: C.AD_FLOAT16}
ITEMSIZE = {FLOAT32: 4, FLOAT64: 8, INT32: 4, INT64: 8, BOOL: 1, FLOAT16: 2}
CTYPE = {FLOAT32: "float", FLOAT64: "double", INT32: "int32_t", INT64: "int64_t", BOOL: "uint8_t", FLOAT16: "uint16_t"}
# struct formats (memoryview casts to all but float16's "e": Tensor._values reads those through struct)
FORMAT = {FLOAT32: "f", FLOAT64: "d", INT32: "i", INT64: "q", BOOL: "?", FLOAT16: "e"}
TYPESTR = {FLOAT32: "<f4", FLOAT64: "<f8", INT32: "<i4", INT64: "<i8", BOOL: "|b1", FLOAT16: "<f2"}
FLOATS = (FLOAT32, FLOAT64)  # the floats ops compute in (and differentiate)
ALL_FLOATS = (FLOAT16,) + FLOATS
INTS = (INT32, INT64)
INT_RANGE = {INT32: (-2**31, 2**31), INT64: (-2**63, 2**63)}  # [lo, hi)
# Mixed operands promote up this order (as numpy's): bool < int32 < int64 < the floats (two floats never mix)
RANK = {BOOL: 0, INT32: 1, INT64: 2, FLOAT16: 3, FLOAT32: 3, FLOAT64: 3}
_ALIASES = {"float": FLOAT32, "double": FLOAT64, "int": INT32, "float32": FLOAT32, "float64": FLOAT64,
            "int32": INT32, "int64": INT64, "long": INT64, "bool": BOOL, "bool_": BOOL, "bool8": BOOL,
            "float16": FLOAT16, "half": FLOAT16}


def canonical(dtype, op: str = "dtype") -> str:
    """'float32' from 'float32', numpy dtypes, ad dtypes, Python's bool; TypeError otherwise."""
    if dtype is None:
        return None
    name = getattr(dtype, "name", None) or (dtype.__name__ if isinstance(dtype, type) else str(dtype))
    try:
        return _ALIASES[name]
    except KeyError:
        raise TypeError(f"{op}: unsupported dtype {dtype!r}; use float32, float64, int32, int64, bool "
                        f"or float16") from None
