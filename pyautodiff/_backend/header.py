"""Reads csrc/pyautodiff.h, the one declaration of the kernels.

cffi takes the text as its cdef natively; the ctypes binding (Pyodide) takes the parsed
declarations. The header's grammar is deliberately small: integer #defines and one-line-per-
parameter C prototypes of plain types, so this parser stays short.
"""

import re

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_DEFINE = re.compile(r"^#define\s+(\w+)\s+(-?\d+)\s*$", re.M)
_PROTO = re.compile(r"([\w\s\*]+?)\b(\w+)\s*\(([^)]*)\)\s*;")


def strip_comments(text: str) -> str:
    return _COMMENT.sub("", text)


def defines(text: str) -> dict[str, int]:
    """The integer constants: AD_FLOAT32, AD_ADD, ..."""
    return {name: int(value) for name, value in _DEFINE.findall(strip_comments(text))}


def _ctype(decl: str) -> str:
    """'const int64_t *shape' -> 'int64_t*'; 'double p0' -> 'double'."""
    decl = decl.replace("const", " ").strip()
    stars = decl.count("*")
    words = decl.replace("*", " ").split()
    if len(words) > 1:  # drop the parameter name
        words = words[:-1]
    return " ".join(words) + "*" * stars


def functions(text: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (return type, [parameter types]) for every prototype in the header."""
    body = _DEFINE.sub("", strip_comments(text))
    out = {}
    for ret, name, params in _PROTO.findall(body):
        params = params.strip()
        args = [] if params in ("", "void") else [_ctype(p) for p in params.split(",")]
        out[name] = (_ctype(ret + " x"), args)
    return out
