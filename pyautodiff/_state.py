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
