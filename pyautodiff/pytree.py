"""Nested structures of lists, tuples (namedtuples too) and dicts, walked one way everywhere: tape sources and
gradients, Function arguments and results, model inputs. Dicts are walked in their insertion order, so a
result dict has its source's key order."""

from itertools import repeat

_LEAF = object()  # a leaf's place in a treedef
_CONST = object()  # marks a value that is neither a leaf nor a container: kept as it is
_FLAT = object()  # marks a list or tuple of leaves only (the common case, flattened and rebuilt without a walk)
_CONTAINERS = (list, tuple, dict)


def is_container(value) -> bool:
    return isinstance(value, _CONTAINERS)


def _not_container(value) -> bool:
    return not isinstance(value, _CONTAINERS)


def flatten(value, is_leaf=_not_container) -> tuple[list, object]:
    """(leaves in order, treedef): unflatten(treedef, leaves) rebuilds `value`. Values that are neither
    leaves nor containers stay in the treedef. The treedef is hashable when those values and the dict keys
    are (with the default is_leaf, everything but the containers is a leaf)."""
    if is_leaf(value):
        return [value], _LEAF
    kind = type(value)
    if kind is list or kind is tuple:
        flat = (not any(map(isinstance, value, repeat(_CONTAINERS))) if is_leaf is _not_container  # (no Python
                else all(map(is_leaf, value)))  # call per element in the default case)
        if flat:
            return list(value), (_FLAT, kind, len(value))
    leaves: list = []

    def walk(v):
        if is_leaf(v):
            leaves.append(v)
            return _LEAF
        if isinstance(v, dict):
            return dict, tuple(v), tuple(walk(x) for x in v.values())
        if isinstance(v, (list, tuple)):
            return type(v), tuple(walk(x) for x in v)
        return _CONST, v
    return leaves, walk(value)


def unflatten(treedef, leaves):
    """The structure of treedef with the given leaves, in order."""
    if treedef is _LEAF:
        return leaves[0]
    if treedef[0] is _FLAT:
        return treedef[1](leaves)
    it = iter(leaves)

    def build(t):
        if t is _LEAF:
            return next(it)
        kind = t[0]
        if kind is _CONST:
            return t[1]
        if kind is dict:
            return {k: build(c) for k, c in zip(t[1], t[2])}
        items = [build(c) for c in t[1]]
        return kind(items) if kind in (list, tuple) else kind(*items)  # (a namedtuple takes fields)
    return build(treedef)
