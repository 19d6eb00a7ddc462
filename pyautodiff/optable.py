"""The op table's registries, below the tape and the ops: each op's row registers itself here.

OPS maps an op's name to its Op (name and vjp) and FUNCTIONS its name to the function that applies it; the
tape takes the few ops its walk needs (add, broadcast_to...) from FUNCTIONS when it runs, so it imports no
op module. EXPORTED says which functions `import pyautodiff` exports. ACTIVATIONS and GRAD_DY hold the
activations by name (layers, fused dense and the page take them from there)."""

__all__ = ["ACTIVATIONS", "EXPORTED", "FUNCTIONS", "GRAD_DY", "OPS", "Op", "defop", "public", "register"]


class Op:
    """One entry of the op table: a name and its vector-Jacobian product (None: not differentiable).

    vjp(g, node, needs) returns one gradient (or None) per input; g is the upstream gradient
    (a tuple for multi-output ops), node holds inputs, outputs and attrs, needs[i] says whether
    input i's gradient is wanted. vjps are written with ops, so they are differentiable too.
    """

    __slots__ = ("name", "vjp")

    def __init__(self, name: str, vjp):
        self.name = name
        self.vjp = vjp

    def __repr__(self):
        return f"<Op {self.name}>"


OPS: dict[str, Op] = {}
FUNCTIONS: dict = {}  # name -> the function applying an op (or a composite of ops)
EXPORTED: set = set()  # the names of FUNCTIONS that `import pyautodiff` exports
ACTIVATIONS: dict = {}  # activation name -> its function of one tensor
GRAD_DY: dict = {}  # activation name -> d/dy of its gradient g * f'(y), written with ops (absent where 0)


def defop(name: str, vjp=None) -> Op:
    if name in OPS:
        raise RuntimeError(f"op {name!r} defined twice")
    OPS[name] = op = Op(name, vjp)
    return op


def register(fn):
    """Make fn reachable by its name in FUNCTIONS (decorator), without exporting it."""
    FUNCTIONS[fn.__name__] = fn
    return fn


def public(fn):
    """Register fn and export it from pyautodiff (decorator; the row helpers do this for their ops)."""
    EXPORTED.add(fn.__name__)
    return register(fn)
