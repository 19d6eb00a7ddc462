"""The five dtypes: names, kernel codes, item sizes, struct formats, and how mixed operands promote."""

from ._backend import C

FLOAT32, FLOAT64, INT32, INT64, BOOL = "float32", "float64", "int32", "int64", "bool"
CODE = {FLOAT32: C.AD_FLOAT32, FLOAT64: C.AD_FLOAT64, INT32: C.AD_INT32, INT64: C.AD_INT64, BOOL: C.AD_BOOL}
ITEMSIZE = {FLOAT32: 4, FLOAT64: 8, INT32: 4, INT64: 8, BOOL: 1}
CTYPE = {FLOAT32: "float", FLOAT64: "double", INT32: "int32_t", INT64: "int64_t", BOOL: "uint8_t"}
FORMAT = {FLOAT32: "f", FLOAT64: "d", INT32: "i", INT64: "q", BOOL: "?"}
TYPESTR = {FLOAT32: "<f4", FLOAT64: "<f8", INT32: "<i4", INT64: "<i8", BOOL: "|b1"}
FLOATS = (FLOAT32, FLOAT64)
INTS = (INT32, INT64)
INT_RANGE = {INT32: (-2**31, 2**31), INT64: (-2**63, 2**63)}  # [lo, hi)
# Mixed operands promote up this order (as numpy's): bool < int32 < int64 < the floats (two floats never mix)
RANK = {BOOL: 0, INT32: 1, INT64: 2, FLOAT32: 3, FLOAT64: 3}
_ALIASES = {"float": FLOAT32, "double": FLOAT64, "int": INT32, "float32": FLOAT32, "float64": FLOAT64,
            "int32": INT32, "int64": INT64, "long": INT64, "bool": BOOL, "bool_": BOOL, "bool8": BOOL}


def canonical(dtype, op: str = "dtype") -> str:
    """'float32' from 'float32', numpy dtypes, ad dtypes, Python's bool; TypeError otherwise."""
    if dtype is None:
        return None
    name = getattr(dtype, "name", None) or (dtype.__name__ if isinstance(dtype, type) else str(dtype))
    try:
        return _ALIASES[name]
    except KeyError:
        raise TypeError(f"{op}: unsupported dtype {dtype!r}; use float32, float64, int32, int64 or bool") from None
