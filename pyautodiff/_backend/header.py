"""Reads csrc/pyautodiff.h, the one declaration of the kernels: the one parser of it.

cffi takes the text as its cdef natively; the ctypes binding (Pyodide) takes the parsed declarations, and
tools/gen_plan.py the prototypes. The header's grammar is deliberately small: integer #defines and C
prototypes of plain types, so this parser stays short.
"""

import re

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
_DEFINE = re.compile(r"^#define\s+(\w+)\s+(-?\d+)\s*$", re.MULTILINE)
_PROTO = re.compile(r"([\w\s\*]+?)\b(\w+)\s*\(([^)]*)\)\s*;")


def strip_comments(text: str) -> str:
    return _COMMENT.sub("", text)


def defines(text: str) -> dict[str, int]:
    """The integer constants: AD_FLOAT32, AD_OPS_UNARY, ..."""
    return {name: int(value) for name, value in _DEFINE.findall(strip_comments(text))}


def _split(decl: str) -> tuple[str, str]:
    """'const int64_t *shape' -> ('const int64_t *', 'shape')."""
    words = decl.replace("*", " * ").split()
    return " ".join(words[:-1]), words[-1]


def prototypes(text: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """[(name, return type, [(parameter type, parameter name)])] in header order; types as written,
    const included ('const int64_t *')."""
    body = _DEFINE.sub("", strip_comments(text))
    out = []
    for ret, name, params in _PROTO.findall(body):
        params = params.strip()
        args = [] if params in ("", "void") else [_split(p) for p in params.split(",")]
        out.append((name, " ".join(ret.replace("*", " * ").split()), args))
    return out


def plain(ctype: str) -> str:
    """The type without const and spaces: 'const int64_t *' -> 'int64_t*', 'double' -> 'double'."""
    words = ctype.replace("*", " ").replace("const", " ").split()
    return " ".join(words) + "*" * ctype.count("*")


def functions(text: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (return type, [parameter types]) for every prototype, types plain (see `plain`)."""
    return {name: (plain(ret), [plain(t) for t, _ in args]) for name, ret, args in prototypes(text)}
