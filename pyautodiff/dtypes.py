"""The three dtypes: names, kernel codes, item sizes, struct formats."""

from ._backend import C

FLOAT32, FLOAT64, INT32 = "float32", "float64", "int32"
CODE = {FLOAT32: C.AD_FLOAT32, FLOAT64: C.AD_FLOAT64, INT32: C.AD_INT32}
ITEMSIZE = {FLOAT32: 4, FLOAT64: 8, INT32: 4}
CTYPE = {FLOAT32: "float", FLOAT64: "double", INT32: "int32_t"}
FORMAT = {FLOAT32: "f", FLOAT64: "d", INT32: "i"}
FLOATS = (FLOAT32, FLOAT64)
_ALIASES = {"float": FLOAT32, "double": FLOAT64, "int": INT32, "float32": FLOAT32, "float64": FLOAT64,
            "int32": INT32}


def canonical(dtype, op: str = "dtype") -> str:
    """'float32' from 'float32', numpy dtypes, ad dtypes; TypeError otherwise."""
    if dtype is None:
        return None
    name = getattr(dtype, "name", None) or (dtype.__name__ if isinstance(dtype, type) else str(dtype))
    try:
        return _ALIASES[name]
    except KeyError:
        raise TypeError(f"{op}: unsupported dtype {dtype!r}; use float32, float64 or int32") from None
