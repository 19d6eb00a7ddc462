"""The one way into the C kernels: call one, turn its status into an exception, and let a Function that is
tracing in this thread record the call (its replays run the recorded calls again)."""

from ._state import state
from .errors import check

__all__ = ["run"]


def run(name: str, operands: tuple, kernel, *args) -> None:
    """kernel(*args); operands are the tensors it reads and writes (named in errors, kept by traces)."""
    status = kernel(*args)
    if status:
        check(name, status, *operands)
    tracer = state.tracer
    if tracer is not None:
        tracer.append((kernel, args, operands, name))
