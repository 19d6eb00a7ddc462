"""Optimizers: build(var_list) creates the slots, update_step(grad, var) is one C call per variable;
eagerly, apply_gradients runs the step count and all those calls as one C plan (plan.KernelBatch).

The step count, the learning rate (and its schedule) and the hyper-parameters live in one float64
block in C memory that the kernels read when they run (csrc/optim.c). Nothing is computed in Python
per step, so a training step traced into a graph and replayed keeps counting steps, decaying the
learning rate and correcting Adam's bias; changing a hyper-parameter attribute takes effect at once.
"""

import math
from types import SimpleNamespace

from . import _state as _shared
from ._backend import NULL
from ._state import state as _state
from .dtypes import FLOATS
from ._plan_table import ARGS
from .ops._core import C, code, lib, run
from .plan import KernelBatch
from .errors import check
from .tensor import Tensor, Variable, as_tensor, full, zeros

_HP = C  # the AD_HP_* slots of the block

# what each hyper-parameter accepts (Keras' and PyTorch's ranges): a test of its float value, and its wording
POSITIVE = (lambda v: v > 0, "positive")
NON_NEGATIVE = (lambda v: v >= 0, ">= 0")
UNIT = (lambda v: 0 <= v <= 1, "in [0, 1]")
DECAY = (lambda v: 0 <= v < 1, "in [0, 1)")
FLAG = (lambda v: v in (0.0, 1.0), "True or False")


def _checked(where: str, what: str, value, rule: tuple) -> float:
    """value as a float, or a clear error naming the optimizer (or schedule) and the hyper-parameter: a value
    out of range would only show as NaN weights steps later."""
    ok, expects = rule
    try:
        if isinstance(value, (str, bytes)) or (isinstance(value, bool) and rule is not FLAG):
            raise TypeError
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {what} must be a number {expects}, got {type(value).__name__} {value!r}") from None
    if not (math.isfinite(v) and ok(v)):
        raise ValueError(f"{where}: {what} must be {expects}, got {value!r}")
    return v


class ExponentialDecay:
    """lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps), floored when staircase."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False):
        self.initial_learning_rate = _checked("ExponentialDecay", "initial_learning_rate", initial_learning_rate,
                                              NON_NEGATIVE)
        self.decay_steps = _checked("ExponentialDecay", "decay_steps", decay_steps, POSITIVE)
        self.decay_rate = _checked("ExponentialDecay", "decay_rate", decay_rate, POSITIVE)
        self.staircase = bool(staircase)

    def _write(self, hp) -> None:
        hp[_HP.AD_HP_LR] = self.initial_learning_rate
        hp[_HP.AD_HP_DECAY_STEPS] = self.decay_steps
        hp[_HP.AD_HP_DECAY_RATE] = self.decay_rate
        hp[_HP.AD_HP_STAIRCASE] = float(self.staircase)

    def __call__(self, step) -> float:
        """The rate at `step` (computed by the same C function the optimizers use)."""
        block = zeros((_HP.AD_HP_COUNT,), "float64")
        hp = block._memview()
        self._write(hp)
        hp[_HP.AD_HP_STEP] = float(step)
        return _schedule(block)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase}


def _schedule(block: Tensor) -> float:
    out = full((1,), 0.0, "float64")
    check("learning_rate", lib.ad_lr_schedule(block._ptr, out._ptr), block)
    return out.item()


class _Hyper:
    """An attribute stored in the optimizer's float64 block (read by the kernels at run time), checked
    against its rule when set."""

    def __init__(self, slot: int, rule: tuple):
        self.slot, self.rule = slot, rule

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, opt, owner=None):
        return self if opt is None else opt._hp[self.slot]

    def __set__(self, opt, value):
        opt._hp[self.slot] = _checked(opt.name, self.name, value, self.rule)
        opt._batches.clear()  # the cached plans hold the slots' pointers: rebuilt with the next update
        if any(s not in slots for _, slots in opt._slots.values() for s in opt.slots_for()):
            # an update now needs a slot its variable lacks (momentum turned on): the next build creates it,
            # and every traced Function must trace again, as its recorded calls have no pointer to it
            _shared.traces_stale()


class Optimizer:
    slot_names: tuple = ()  # the per-variable state this optimizer keeps, in kernel order

    weight_decay = _Hyper(_HP.AD_HP_WEIGHT_DECAY, NON_NEGATIVE)

    def __init__(self, learning_rate=0.001, weight_decay: float | None = None, name: str | None = None):
        self.name = name or type(self).__name__
        self._block = Variable(zeros((_HP.AD_HP_COUNT,), "float64"), name=f"{self.name}/hyper", trainable=False)
        self._batches: dict = {}  # ids of variables -> (them, their updates as one KernelBatch or None)
        self._slots: dict = {}  # id(var) -> (var, {slot name: Variable})
        self._hp = self._block._memview()
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay or 0.0

    # --- pickle and copy.deepcopy: a memoryview and kernel batches cannot be copied; slots are keyed by ids ---
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_hp", "_batches")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _hp=state["_block"]._memview(), _batches={},
                             _slots={id(var): (var, slots) for var, slots in state["_slots"].values()})

    # --- state ---
    @property
    def iterations(self) -> int:
        return int(self._hp[_HP.AD_HP_STEP])

    @property
    def learning_rate(self) -> float:
        """The rate the next step will use."""
        return _schedule(self._block)

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        hp = self._hp
        if isinstance(value, ExponentialDecay):
            value._write(hp)
        elif callable(value):  # the kernels compute the rate in C, also in replayed plans: no Python per step
            raise TypeError(f"{self.name}: learning_rate must be a number >= 0 or an ExponentialDecay schedule; "
                            f"a Python callable ({type(value).__name__}) cannot run inside the C update plans")
        else:
            hp[_HP.AD_HP_LR] = _checked(self.name, "learning_rate", value, NON_NEGATIVE)
            hp[_HP.AD_HP_DECAY_STEPS] = 0.0

    @property
    def variables(self) -> list:
        """The hyper-parameter block (step count first) and every slot variable."""
        return [self._block] + [v for _, slots in self._slots.values() for v in slots.values()]

    def get_slot(self, var, name: str) -> Variable:
        try:
            return self._slots[id(var)][1][name]
        except KeyError:
            raise KeyError(f"{self.name}: no slot {name!r} for variable {getattr(var, 'name', var)!r}; "
                           f"slots are {list(self.slot_names)}") from None

    def build(self, var_list) -> None:
        """Create the slots each variable needs under the current hyper-parameters (zeros, as Keras starts
        them; a slot turned on later, momentum set after some steps, starts from zeros then)."""
        needed = self.slots_for()
        for var in var_list:
            _, slots = self._slots.setdefault(id(var), (var, {}))
            for s in needed:
                if s not in slots:
                    slots[s] = Variable(zeros(var.shape, var.dtype), name=f"{var.name}/{s}", trainable=False)

    def slots_for(self) -> tuple:
        """The slots a new variable gets under the current hyper-parameters."""
        return self.slot_names

    # --- updates ---
    def apply_gradients(self, grads_and_vars) -> None:
        pairs = []
        for g, v in grads_and_vars:
            if not isinstance(v, Variable):
                raise TypeError(f"{self.name}: can only update Variables, got {type(v).__name__}")
            if g is not None:
                pairs.append((g if isinstance(g, Tensor) else as_tensor(g, v.dtype, self.name), v))
        for g, v in pairs:
            if v.dtype not in FLOATS:
                raise TypeError(f"{self.name}: can only update float32 or float64 Variables, got {v.name!r} "
                                f"{v.shape} {v.dtype}")
            if g.shape != v.shape or g.dtype != v.dtype:
                kind = ValueError if g.shape != v.shape else TypeError
                raise kind(f"{self.name}: gradient {g.shape} {g.dtype} does not match variable "
                           f"{v.name!r} {v.shape} {v.dtype}")
        if not pairs:
            return
        variables = tuple(v for _, v in pairs)
        self.build(variables)
        batch = self._batch(variables, pairs) if _state.tracer is None else None  # a trace records each call
        if batch is not None:
            batch.run([g._ptr for g, _ in pairs])
        else:
            run(self.name, (self._block,), lib.ad_optim_step, self._block._ptr)
            for g, v in pairs:
                self.update_step(g, v)
        for v in variables:
            v._written()

    def _batch(self, variables: tuple, pairs: list):
        """The step count and the updates of these variables as one C plan; the gradients are re-bound."""
        key = tuple(map(id, variables))  # (the entry keeps the variables alive, so their ids stay theirs)
        if key in self._batches:
            return self._batches[key][1]
        batch = None
        if getattr(self.update_step, "__func__", None) is Optimizer.update_step:  # else: as the user wrote it
            # the gradient argument is re-bound on every run: built with the variable's own pointer, the plan
            # keeps no gradient alive
            calls = [(lib.ad_optim_step, (self._block._ptr,), (self._block,), self.name)] + \
                [(*self._update_call(v, v), self._operands(v), self.name) for _, v in pairs]
            batch = KernelBatch.make(calls, [(i, ARGS[call[0].__name__]["grad"]) for i, call in enumerate(calls) if i])
        if len(self._batches) >= 8:
            self._batches.clear()
        self._batches[key] = (variables, batch)
        return batch

    def update(self, params, grads) -> None:
        """The seed's form: params and their gradients as two lists of the same length."""
        params, grads = list(params), list(grads)
        if len(params) != len(grads):
            raise ValueError(f"{self.name}.update: {len(params)} params but {len(grads)} gradients")
        self.apply_gradients(zip(grads, params))

    def update_step(self, grad: Tensor, var: Variable) -> None:
        kernel, args = self._update_call(grad, var)
        run(self.name, (grad, *self._operands(var)), kernel, *args)

    def _operands(self, var) -> tuple:
        """The tensors an update of var points into (a traced or batched update keeps them alive)."""
        return (var, *self._slots[id(var)][1].values(), self._block)


    def _update_call(self, grad: Tensor, var: Variable) -> tuple:
        """(kernel, args) updating var from grad."""
        raise NotImplementedError

    def _slot_ptrs(self, var) -> list:
        slots = self._slots[id(var)][1]
        return [slots[s]._ptr if s in slots else NULL for s in self.slot_names]

    def get_config(self) -> dict:
        return {"name": self.name, "learning_rate": self._hp[_HP.AD_HP_LR], "weight_decay": self.weight_decay}


class SGD(Optimizer):
    slot_names = ("momentum",)
    momentum = _Hyper(_HP.AD_HP_MOMENTUM, UNIT)
    nesterov = _Hyper(_HP.AD_HP_NESTEROV, FLAG)

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum, self.nesterov = momentum, nesterov

    def slots_for(self):
        return self.slot_names if self.momentum else ()

    def _update_call(self, grad, var):
        return lib.ad_sgd_update, (code(var), var.size, var._ptr, grad._ptr, *self._slot_ptrs(var), self._block._ptr)


class Adam(Optimizer):
    slot_names = ("m", "v")
    beta_1 = _Hyper(_HP.AD_HP_BETA_1, DECAY)
    beta_2 = _Hyper(_HP.AD_HP_BETA_2, DECAY)
    epsilon = _Hyper(_HP.AD_HP_EPSILON, POSITIVE)

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _update_call(self, grad, var):
        return lib.ad_adam_update, (code(var), var.size, var._ptr, grad._ptr, *self._slot_ptrs(var), self._block._ptr)


class AdamW(Adam):
    """Adam with decoupled weight decay: var -= learning_rate * weight_decay * var before each update."""

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    slot_names = ("velocity", "momentum", "average_gradient")
    rho = _Hyper(_HP.AD_HP_RHO, DECAY)
    momentum = _Hyper(_HP.AD_HP_MOMENTUM, UNIT)
    epsilon = _Hyper(_HP.AD_HP_EPSILON, POSITIVE)
    centered = _Hyper(_HP.AD_HP_CENTERED, FLAG)

    def __init__(self, learning_rate=0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
                 centered: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def slots_for(self):
        return ("velocity",) + (("momentum",) if self.momentum else ()) + \
            (("average_gradient",) if self.centered else ())

    def _update_call(self, grad, var):
        return lib.ad_rmsprop_update, (code(var), var.size, var._ptr, grad._ptr, *self._slot_ptrs(var),
                                       self._block._ptr)


ALIASES = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def get(identifier) -> Optimizer:
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in ALIASES:
        return ALIASES[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}; one of {sorted(ALIASES)} or an Optimizer")


schedules = SimpleNamespace(ExponentialDecay=ExponentialDecay)  # where Keras keeps it: optimizers.schedules
