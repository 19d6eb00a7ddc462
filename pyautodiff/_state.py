"""Per-thread recording state, shared by tapes, Function traces and Variable creation."""

import threading


class _ThreadState(threading.local):
    """Tapes and Function traces in one thread never see another thread's ops."""

    def __init__(self):
        self.tapes: list = []  # tapes inside their `with` block, innermost last
        self.tracer = None  # while a Function traces: the list receiving every kernel call and buffer
        self.created = None  # while a Function traces: (Variable, position in tracer) for each new Variable
        self.wrote = False  # while a Function traces: whether its body wrote a Variable in place


state = _ThreadState()


traces_epoch = 0  # process-wide; part of every Function's trace key


def traces_stale() -> None:
    """Recorded kernel calls no longer fit (an optimizer gained slot variables): every Function traces again."""
    global traces_epoch
    traces_epoch += 1


weights_epoch = 0  # process-wide: what a walk over a layer's weights finds may have changed since it last moved


def weights_changed() -> None:
    """A layer gained an attribute or a weight, or a layer's or a Variable's trainable flag was set: every
    cached walk over weights (Layer.trainable_variables...) is done again."""
    global weights_epoch
    weights_epoch += 1
