"""Nested structures of lists, tuples (namedtuples too) and dicts, walked one way everywhere: tape sources and
gradients, Function arguments and results, model inputs. Dicts are walked in their insertion order, so a
result dict has its source's key order."""

_LEAF = object()  # a leaf's place in a treedef
_CONST = object()  # marks a value that is neither a leaf nor a container: kept as it is


def is_container(value) -> bool:
    return isinstance(value, (list, tuple, dict))


def flatten(value, is_leaf=lambda v: not is_container(v)) -> tuple[list, object]:
    """(leaves in order, treedef): unflatten(treedef, leaves) rebuilds `value`. Values that are neither
    leaves nor containers stay in the treedef. The treedef is hashable when those values and the dict keys
    are (with the default is_leaf, everything but the containers is a leaf)."""
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
