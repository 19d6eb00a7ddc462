"""Replay plans: recorded kernel calls encoded as int64 words that ad_plan_run runs in one crossing into C.

A Function's forward and backward are Programs (copies in, the recorded calls, copies out); an optimizer's
update of every variable is a KernelBatch. A plan keeps alive every buffer whose address its words hold,
checked when it is built (_storage). The word layout is ad_plan_run's (csrc/pyautodiff.h); the kernels it
can run, their argument kinds and positions are generated from the header (_plan_table.py).
"""

import bisect
import ctypes
import struct
import threading

from . import _backend as B
from ._plan_table import ARGS, KERNELS, SIGNATURE
from .dtypes import CODE
from .errors import check
from .tensor import Tensor, Variable, _set_version, empty

__all__ = ["KernelBatch", "Program", "address", "without_initializers"]

_lib = B.lib
_ONE = B.i64((1,))
_PLAN_OK = hasattr(_lib, "ad_plan_run") and _lib.ad_plan_signature() == SIGNATURE
_NATIVE = B.info["binding"] == "cffi"


def _io_copy(t: Tensor) -> tuple:
    """A copy entry moving values in or out of a program through t; its source or destination is patched per
    call. (The entry holds its i64 argument: B.i64's cache is no owner.)"""
    return (_lib.ad_copy, (CODE[t.dtype], 1, B.i64((t.size,)), t._ptr, _ONE, t._ptr, _ONE), (t,), "copy")


class Program:
    """Kernel calls compiled into C plan segments, and Python calls for the kernels the plan lacks.

    The calls are: copies of the call's inputs into the placeholders, the recorded calls, copies of the
    results into fresh tensors. The copies' outer pointers are patched before every run, so a replay
    whose kernels are all in the plan table is one ad_plan_run call. The recorded calls are reordered so
    that the writes to Variables come as late as they can (see _writes_last)."""

    def __init__(self, name: str, entries: list, copy_in: list, copy_out: list):
        self.name = name
        recorded = [e for e in entries if type(e) is tuple]
        owners = [e for e in entries if type(e) is not tuple] + copy_in + copy_out
        access, variables = _storage(recorded, owners)
        order = _writes_last(access, variables)
        recorded = [recorded[i] for i in order]
        calls = [_io_copy(p) for p in copy_in] + recorded + [_io_copy(t) for t in copy_out]
        self.keep = owners  # with self.calls: every buffer whose address the words hold stays alive with them
        self.calls = calls
        wrote = [[v for s in access[i][1] if s in variables for v in variables[s].values()] for i in order]
        self.wrote = [()] * len(copy_in) + wrote + [()] * len(copy_out)  # the Variables each call writes
        self.written = list({id(v): v for vs in wrote for v in vs}.values())
        self.kernel_calls = len(recorded)
        self.steps: list = []
        slots = []  # (step, argument position) of each call's first argument
        segment: list = []
        used = 2  # the words of the segment so far: its header, then each entry's id and arguments
        for at, (kernel, args, _, _) in enumerate(calls):
            words = _encode(kernel, args) if _PLAN_OK else None
            if words is None:
                if segment:
                    self.steps.append(_Plan(segment, at - len(segment)))
                    segment, used = [], 2
                self.steps.append((kernel, list(args), at))
                slots.append((self.steps[-1], 0))
            else:
                slots.append((segment, used + 1))
                segment.append(words)
                used += len(words)
        if segment:
            self.steps.append(_Plan(segment, len(calls) - len(segment)))
        plans = {id(st.segment): st for st in self.steps if type(st) is _Plan}
        resolved = [(plans[id(owner)], at) if id(owner) in plans else (owner, at) for owner, at in slots]
        n_in = len(copy_in)
        # the patched pointers: each input's copy source, then each output's copy destination
        self.slots = [_slot(*resolved[i], ARGS["ad_copy"]["x"]) for i in range(n_in)] + \
            [_slot(*resolved[n_in + len(recorded) + i], ARGS["ad_copy"]["y"]) for i in range(len(copy_out))]
        self.out_specs = [(t.shape, t.dtype) for t in copy_out]

    def run(self, inputs: list) -> list:
        """Run with the given input tensors (one per copy_in); returns fresh result tensors."""
        outs = [empty(shape, dtype) for shape, dtype in self.out_specs]
        for (words, at), t in zip(self.slots, inputs + outs):
            words[at] = t._ptr
        try:
            for step in self.steps:  # (one plan when every kernel is in the table)
                if type(step) is _Plan:
                    status = _lib.ad_plan_run(step.ptr)
                    if status:
                        self._fail(step.first + step.words[1], status)
                else:
                    kernel, args, at = step
                    status = kernel(*args)
                    if status:
                        self._fail(at, status)
        finally:  # the replay wrote these as the body's assigns did: tapes that read them must see a new version
            for v in self.written:
                _set_version(v, v.version + 1)
        return outs

    def _fail(self, at: int, status: int) -> None:
        """Raise for call `at` failing, naming its op and operands and the Variables already written."""
        written = {id(v): v.name for wrote in self.wrote[:at] for v in wrote}
        try:
            _raise_for(self.calls[at], status)
        except Exception as e:
            already = f"; Variables it had already written: {', '.join(written.values())}" if written else ""
            raise type(e)(f"Function {self.name}: replay failed: {e}{already}") from None

    @property
    def crossings(self) -> int:
        """Calls into C per run, kernels only (the Python/C boundary is crossed once per step)."""
        return len(self.steps)


def _slot(owner, first: int, arg: int) -> tuple:
    """One pointer argument of one call: (slots, index), in a plan's words (as pointer slots) or a Python call's
    argument list; either takes the pointer itself."""
    if type(owner) is _Plan:
        return owner.pointers, first + arg
    return owner[1], arg


def _raise_for(call: tuple, status: int) -> None:
    """The exception of a recorded call that failed, naming its op and its operands' shapes and dtypes."""
    check(call[3], status, *call[2])


class _Plan:
    """One ad_plan_run call: [count, failing entry, (kernel id, argument words)...] in C memory."""

    def __init__(self, segment: list, first: int):
        self.segment = segment
        self.first = first  # the index of its first call among its program's
        words = [len(segment), -1]
        for w in segment:
            words.extend(w)
        self.owner, self.ptr = B.alloc(8 * len(words), "int64_t")
        self.words = B.view(self.ptr, 8 * len(words)).cast("q")
        self.pointers = B.pointer_words(self.ptr, len(words))  # (the same words, re-bound by pointer)
        self.words[:] = memoryview(struct.pack(f"={len(words)}q", *words)).cast("q")


class KernelBatch:
    """Fixed kernel calls run as one ad_plan_run, some pointer arguments re-bound before each run: how an
    optimizer updates every variable in one crossing (its gradients are new tensors on every step).

    calls: [(kernel, args, operands, op name)] as a trace records them; the operands are the tensors whose
    storage the pointer arguments point into (the batch keeps them). rebind: [(call index, argument index)].
    None from make() when the plan cannot run one of the kernels (then the caller calls them one by one)."""

    @classmethod
    def make(cls, calls: list, rebind: list):
        encoded = [_encode(kernel, args) for kernel, args, _, _ in calls] if _PLAN_OK else [None]
        return None if None in encoded else cls(calls, encoded, rebind)

    def __init__(self, calls: list, encoded: list, rebind: list):
        _storage(calls, [])  # checks that the calls keep every buffer the words point at
        self.calls = calls
        self.plan = _Plan(encoded, 0)
        first, at = [], 2  # the word of each call's first argument: after the header and its kernel id
        for words in encoded:
            first.append(at + 1)
            at += len(words)
        self.at = [first[c] + a for c, a in rebind]  # the words of the re-bound arguments
        self.lock = threading.Lock()  # the re-bound words are shared: one run at a time

    def run(self, ptrs) -> None:
        pointers = self.plan.pointers
        with self.lock:
            for at, ptr in zip(self.at, ptrs):
                pointers[at] = ptr
            status = _lib.ad_plan_run(self.plan.ptr)
            failed = self.plan.words[1]
        if status:
            _raise_for(self.calls[failed], status)


def _to_int64(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def address(a) -> int:
    if a is None:
        return 0
    if isinstance(a, int):
        return a
    if not _NATIVE and isinstance(a, ctypes.Array):  # B.i64 arrays in the ctypes binding
        return ctypes.addressof(a)
    return B.address(a)


def _encode(kernel, args: tuple):
    """A recorded call as plan words (kernel id, then one int64 per argument), or None if the C plan
    cannot run this kernel (then the replay calls it from Python)."""
    name = getattr(kernel, "__name__", None)
    spec = KERNELS.get(name)
    if spec is None or getattr(_lib, name, None) is not kernel:
        return None
    kid, kinds = spec
    if len(kinds) != len(args):
        return None
    words = [kid]
    for kind, a in zip(kinds, args):
        if kind == "d":
            words.append(struct.unpack("=q", struct.pack("=d", float(a)))[0])
        elif kind == "i":
            words.append(_to_int64(int(a)))
        else:
            words.append(address(a))
    return words


def _storage(calls: list, owners: list) -> tuple:
    """Which storage each call reads and writes, having checked that every pointer it passes lies in memory
    the calls keep alive: a Tensor among `owners` or the calls' operands, or an array argument (B.span).
    An address kept without its owner would be read after the owner is freed, on some later replay.

    Returns ([(ids read, ids written)] per call, {storage id: {id(Variable): Variable}}); a storage id
    stands for the overlapping spans of the tensors (and views of them) that share memory."""
    spans = [(address(t._ptr), t.nbytes, t) for call in calls for t in call[2] if isinstance(t, Tensor)]
    spans += [(address(t._ptr), t.nbytes, t) for t in owners]
    spans += [(*s, None) for call in calls for s in map(B.span, call[1]) if s is not None]
    starts: list = []
    ends: list = []
    variables: dict = {}
    for lo, n, t in sorted(spans, key=lambda s: s[:2]):
        if not starts or lo >= ends[-1]:
            starts.append(lo)
            ends.append(lo + n)
        else:
            ends[-1] = max(ends[-1], lo + n)
        if isinstance(t, Variable) and n:
            variables.setdefault(len(starts) - 1, {})[id(t)] = t
    access = []
    for kernel, args, _, op in calls:
        reads, writes = set(), set()
        for kind, a in zip(KERNELS[kernel.__name__][1], args):
            if kind in "po" and (w := address(a)):
                i = bisect.bisect_right(starts, w) - 1
                if i < 0 or w > ends[i]:
                    raise RuntimeError(f"{op}: a replay plan would hold the address of a buffer nothing it keeps "
                                       "owns (a bug in pyautodiff: please report it)")
                (writes if kind == "o" else reads).add(i)
        access.append((reads, writes))
    return access, variables


def _writes_last(access: list, variables: dict) -> list:
    """An order of the calls (their indices) in which every call that neither writes a Variable nor depends
    on such a write runs first: whatever a replay can check before its first write to a Variable (an index
    range, a check_numerics entry) fails before it. Calls change places only with calls touching disjoint
    storage, so the results are those of the recorded order."""
    early, late = [], []
    late_reads: set = set()
    late_writes: set = set()
    for i, (reads, writes) in enumerate(access):
        if variables.keys() & writes or late_writes & (reads | writes) or late_reads & writes:
            late.append(i)
            late_reads |= reads
            late_writes |= writes
        else:
            early.append(i)
    return early + late


def without_initializers(entries: list, created: list) -> list:
    """The entries minus the writes that initialised Variables created by the body (a model or an
    optimizer's slots built on the first call): replaying those would reset the Variables on every call.
    Such writes come before the Variable existed and target the storage it took over."""
    spans = [(at, address(v._ptr), address(v._ptr) + v.nbytes) for v, at in created if v.size]
    if not spans:
        return entries
    kept = []
    for i, e in enumerate(entries):
        if type(e) is tuple:
            spec = KERNELS.get(getattr(e[0], "__name__", None))
            if spec is not None and len(spec[1]) == len(e[1]):
                written = [address(a) for kind, a in zip(spec[1], e[1]) if kind == "o"]
                if any(i < at and lo <= w < hi for at, lo, hi in spans for w in written):
                    continue
        kept.append(e)
    return kept
