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


class LearningRateSchedule:
    """A learning rate that follows the step count, computed in C from the optimizer's block when each step
    starts (so replayed plans follow it too). A subclass writes its formula's kind and parameters."""

    kind: int  # one of AD_SCHEDULE_*

    def _words(self) -> int:
        """How many float64 words of the block the schedule needs."""
        return _HP.AD_HP_COUNT

    def _write(self, hp) -> None:
        raise NotImplementedError

    def __call__(self, step) -> float:
        """The rate at `step` (computed by the same C function the optimizers use)."""
        block = zeros((self._words(),), "float64")
        hp = block._memview()
        self._write(hp)
        hp[_HP.AD_HP_STEP] = _checked(type(self).__name__, "step", step, NON_NEGATIVE)
        return _schedule(block)

    def get_config(self) -> dict:
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class _DecaySchedule(LearningRateSchedule):
    """ExponentialDecay and InverseTimeDecay: a rate decayed by decay_rate over each decay_steps."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str | None = None):
        where = type(self).__name__
        self.initial_learning_rate = _checked(where, "initial_learning_rate", initial_learning_rate, NON_NEGATIVE)
        self.decay_steps = _checked(where, "decay_steps", decay_steps, POSITIVE)
        self.decay_rate = _checked(where, "decay_rate", decay_rate, self.rate_rule)
        self.staircase = bool(staircase)
        self.name = name or where
        self._config = {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                        "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}

    def _write(self, hp) -> None:
        hp[_HP.AD_HP_SCHEDULE] = self.kind
        hp[_HP.AD_HP_LR] = self.initial_learning_rate
        hp[_HP.AD_HP_DECAY_STEPS] = self.decay_steps
        hp[_HP.AD_HP_DECAY_RATE] = self.decay_rate
        hp[_HP.AD_HP_STAIRCASE] = float(self.staircase)


class ExponentialDecay(_DecaySchedule):
    """lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps), floored when staircase."""
    kind, rate_rule = _HP.AD_SCHEDULE_EXPONENTIAL, POSITIVE


class InverseTimeDecay(_DecaySchedule):
    """lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps), floored when staircase."""
    kind, rate_rule = _HP.AD_SCHEDULE_INVERSE_TIME, NON_NEGATIVE


class PiecewiseConstantDecay(LearningRateSchedule):
    """lr(step) = values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i],
    values[-1] after the last boundary."""
    kind = _HP.AD_SCHEDULE_PIECEWISE

    def __init__(self, boundaries, values, name: str | None = None):
        where = "PiecewiseConstantDecay"
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"{where}: boundaries must have one element less than values, got {len(boundaries)} "
                             f"boundaries and {len(values)} values")
        self.boundaries = [_checked(where, "boundaries", b, NON_NEGATIVE) for b in boundaries]
        self.values = [_checked(where, "values", v, NON_NEGATIVE) for v in values]
        if any(a >= b for a, b in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(f"{where}: boundaries must be strictly increasing, got {boundaries}")
        self.name = name or "PiecewiseConstant"
        self._config = {"boundaries": boundaries, "values": values, "name": self.name}

    def _words(self) -> int:
        return _HP.AD_HP_COUNT + 2 * len(self.boundaries) + 1

    def _write(self, hp) -> None:
        hp[_HP.AD_HP_SCHEDULE] = self.kind
        hp[_HP.AD_HP_LR] = self.values[0]
        hp[_HP.AD_HP_PIECES] = len(self.boundaries)
        for i, x in enumerate(self.boundaries + self.values):
            hp[_HP.AD_HP_COUNT + i] = x


class CosineDecay(LearningRateSchedule):
    """A linear warmup from initial_learning_rate to warmup_target over warmup_steps (when warmup_target is
    given), then a cosine decay over decay_steps to alpha times the rate it starts from."""
    kind = _HP.AD_SCHEDULE_COSINE

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0, name: str | None = None,
                 warmup_target: float | None = None, warmup_steps: int = 0):
        where = "CosineDecay"
        self.initial_learning_rate = _checked(where, "initial_learning_rate", initial_learning_rate, NON_NEGATIVE)
        self.decay_steps = _checked(where, "decay_steps", decay_steps, POSITIVE)
        self.alpha = _checked(where, "alpha", alpha, UNIT)
        self.warmup_target = None if warmup_target is None else \
            _checked(where, "warmup_target", warmup_target, NON_NEGATIVE)
        self.warmup_steps = _checked(where, "warmup_steps", warmup_steps, NON_NEGATIVE)
        self.name = name or where
        self._config = {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                        "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                        "warmup_steps": self.warmup_steps}

    def _write(self, hp) -> None:
        hp[_HP.AD_HP_SCHEDULE] = self.kind
        hp[_HP.AD_HP_LR] = self.initial_learning_rate
        hp[_HP.AD_HP_DECAY_STEPS] = self.decay_steps
        hp[_HP.AD_HP_ALPHA] = self.alpha
        warm = self.warmup_target is not None  # without a target, no warmup (as Keras: warmup_steps is ignored)
        hp[_HP.AD_HP_WARMUP_TARGET] = self.warmup_target if warm else self.initial_learning_rate
        hp[_HP.AD_HP_WARMUP_STEPS] = self.warmup_steps if warm else 0.0


def _schedule(block: Tensor) -> float:
    out = full((1,), 0.0, "float64")
    check("learning_rate", lib.ad_lr_schedule(block._ptr, out._ptr), block)
    return out.item()


class _Hyper:
    """An attribute stored in the optimizer's float64 block (read by the kernels at run time), checked
    against its rule when set. optional: None turns it off (stored as 0, read back as None); flags read back
    as bools; restructures: turning it on adds kernel calls to a step, so traced steps must trace again."""

    def __init__(self, slot: int, rule: tuple, optional: bool = False, restructures: bool = False):
        self.slot, self.rule, self.optional, self.restructures = slot, rule, optional, restructures

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, opt, owner=None):
        if opt is None:
            return self
        v = opt._hp[self.slot]
        if self.rule is FLAG:
            return bool(v)
        if self.rule is COUNT:
            return int(v) or None
        return (v or None) if self.optional else v

    def __set__(self, opt, value):
        v = 0.0 if self.optional and value is None else _checked(opt.name, self.name, value, self.rule)
        if v and self.slot in _CLIPS and any(opt._hp[c] for c in _CLIPS if c != self.slot):
            raise ValueError(f"{opt.name}: only one of clipnorm, clipvalue and global_clipnorm can be set; "
                             f"set the others to None before setting {self.name}")
        turned_on = v and not opt._hp[self.slot]
        opt._hp[self.slot] = v
        opt._batches.clear()  # the cached plans hold the slots' pointers: rebuilt with the next update
        if (self.restructures and turned_on) or \
                any(s not in slots for _, slots in opt._slots.values() for s in opt.slots_for()):
            # an update now needs a slot its variable lacks (momentum turned on) or another call: the next build
            # creates the slot, and every traced Function must trace again, as its recorded calls lack them
            _shared.traces_stale()


COUNT = (lambda v: v >= 1 and v == int(v), "an integer >= 1")
LION_BETA = (lambda v: 0 < v <= 1, "in (0, 1]")
_CLIPS = (_HP.AD_HP_CLIPNORM, _HP.AD_HP_CLIPVALUE, _HP.AD_HP_GLOBAL_CLIPNORM)


class Optimizer:
    """The base: the step count, the schedule, gradient clipping, weight decay and the moving average of the
    weights (Keras 3's BaseOptimizer); a subclass names its slots and its C update (_update_call)."""
    slot_names: tuple = ()  # the per-variable state this optimizer's update kernel takes, in kernel order

    weight_decay = _Hyper(_HP.AD_HP_WEIGHT_DECAY, NON_NEGATIVE)
    clipnorm = _Hyper(_HP.AD_HP_CLIPNORM, POSITIVE, optional=True)
    clipvalue = _Hyper(_HP.AD_HP_CLIPVALUE, POSITIVE, optional=True)
    global_clipnorm = _Hyper(_HP.AD_HP_GLOBAL_CLIPNORM, POSITIVE, optional=True, restructures=True)
    use_ema = _Hyper(_HP.AD_HP_USE_EMA, FLAG, restructures=True)
    ema_momentum = _Hyper(_HP.AD_HP_EMA_MOMENTUM, UNIT)
    ema_overwrite_frequency = _Hyper(_HP.AD_HP_EMA_FREQUENCY, COUNT, optional=True)

    def __init__(self, learning_rate=0.001, weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None, name: str | None = None):
        self.name = name or type(self).__name__
        self._block = Variable(zeros((_HP.AD_HP_COUNT,), "float64"), name=f"{self.name}/hyper", trainable=False)
        self._batches: dict = {}  # ids of variables -> (them, their step as one KernelBatch or None)
        self._slots: dict = {}  # id(var) -> (var, {slot name: Variable})
        self._hp = self._block._memview()
        self._hp[_HP.AD_HP_NADAM_PRODUCT] = 1.0  # an empty product
        self._schedule = None
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay or 0.0
        given = [n for n, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                ("global_clipnorm", global_clipnorm)) if v is not None]
        if len(given) > 1:
            raise ValueError(f"{self.name}: only one of clipnorm, clipvalue and global_clipnorm can be set, got "
                             f"{', '.join(given)}")
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum, self.ema_overwrite_frequency = use_ema, ema_momentum, ema_overwrite_frequency

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
        if isinstance(value, LearningRateSchedule):
            self._grow(value._words())
            value._write(self._hp)
            self._schedule = value
            return
        if callable(value):  # the kernels compute the rate in C, also in replayed plans: no Python per step
            raise TypeError(f"{self.name}: learning_rate must be a number >= 0 or a LearningRateSchedule; "
                            f"a Python callable ({type(value).__name__}) cannot run inside the C update plans")
        self._hp[_HP.AD_HP_LR] = _checked(self.name, "learning_rate", value, NON_NEGATIVE)
        self._hp[_HP.AD_HP_SCHEDULE] = _HP.AD_SCHEDULE_CONSTANT
        self._schedule = None

    def _grow(self, words: int) -> None:
        """Make the block hold `words` (a piecewise schedule's boundaries and values follow the slots)."""
        if words <= self._block.size:
            return
        grown = zeros((words,), "float64")
        memory = grown._memview()
        memory[:self._block.size] = self._hp
        self._block = Variable(grown, name=self._block.name, trainable=False)
        self._hp = self._block._memview()
        self._batches.clear()
        _shared.traces_stale()  # recorded calls point at the old block

    @property
    def variables(self) -> list:
        """The hyper-parameter block (step count first) and every slot variable."""
        return [self._block] + [v for _, slots in self._slots.values() for v in slots.values()]

    def get_slot(self, var, name: str) -> Variable:
        try:
            return self._slots[id(var)][1][name]
        except KeyError:
            raise KeyError(f"{self.name}: no slot {name!r} for variable {getattr(var, 'name', var)!r}; "
                           f"slots are {list(self.slot_names) + ['average']}") from None

    def build(self, var_list, slot_names=None) -> None:
        """Create the slots each variable needs under the current hyper-parameters, or those named (zeros, as
        Keras starts them but Adagrad's accumulator; a slot turned on later, momentum set after some steps,
        starts then)."""
        needed = self.slots_for() if slot_names is None else tuple(slot_names)
        for var in var_list:
            entry = self._slots.get(id(var))
            if entry is None:
                entry = self._slots[id(var)] = (var, {})
            slots = entry[1]
            for s in needed:
                if s not in slots:
                    slots[s] = Variable._over(full(var.shape, self._slot_initial(s), var.dtype), f"{var.name}/{s}",
                                              False)

    def slots_for(self) -> tuple:
        """The slots a new variable gets under the current hyper-parameters."""
        return self._update_slots() + (("average",) if self.use_ema else ())

    def _update_slots(self) -> tuple:
        """The slots the update kernel needs under the current hyper-parameters."""
        return self.slot_names

    def _slot_initial(self, name: str) -> float:
        return 0.0

    def finalize_variable_values(self, var_list) -> None:
        """With use_ema, set the variables to their moving averages (as Keras' fit does after training)."""
        if self.use_ema:
            for var in var_list:
                average = self._slots.get(id(var), (None, {}))[1].get("average")
                if average is not None:
                    var.assign(average)

    # --- updates ---
    def apply_gradients(self, grads_and_vars) -> None:
        pairs, variables = [], []
        for g, v in grads_and_vars:
            if not isinstance(v, Variable):
                raise TypeError(f"{self.name}: can only update Variables, got {type(v).__name__}")
            if g is not None:
                pairs.append((g if isinstance(g, Tensor) else as_tensor(g, v.dtype, self.name), v))
                variables.append(v)
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
        variables = tuple(variables)
        tracing = _state.tracer is not None  # a trace records each call
        cached = None if tracing else self._batches.get(tuple(map(id, variables)))
        batch = cached and cached[1]  # (a plan holds every slot of its variables: nothing to build)
        if batch is None:
            self.build(variables)
            batch = None if tracing else self._batch(variables, pairs)
        if batch is not None:  # the gradients are re-bound in the norm calls, if any, then in the updates
            ptrs = [g._ptr for g, _ in pairs]
            batch.run(ptrs * 2 if self._hp[_HP.AD_HP_GLOBAL_CLIPNORM] else ptrs)  # (global_clipnorm, set or 0)
        else:
            run(self.name, (self._block,), lib.ad_optim_step, self._block._ptr)
            for call in self._norm_calls(pairs):
                run(self.name, *call)
            for g, v in pairs:
                self.update_step(g, v)
            for call in self._ema_calls(variables):
                run(self.name, *call)
        for v in variables:
            v._written()
            if v.constraint is not None:  # Keras 3: projected after the whole update (a trace records it too)
                v.assign(v.constraint(v))

    def _norm_calls(self, pairs) -> list:
        """(operands, kernel, *args) adding each gradient's squares to the global norm, when clipping by it."""
        block = self._block
        if not self.global_clipnorm:
            return []
        return [((g, block), lib.ad_optim_norm, code(g), g.size, g._ptr, block._ptr) for g, _ in pairs]

    def _ema_calls(self, variables) -> list:
        """(operands, kernel, *args) moving each variable's average, with use_ema."""
        if not self.use_ema:
            return []
        block, calls = self._block, []
        for v in variables:
            average = self._slots[id(v)][1]["average"]
            calls.append(((v, average, block), lib.ad_optim_ema, code(v), v.size, v._ptr, average._ptr, block._ptr))
        return calls

    def _batch(self, variables: tuple, pairs: list):
        """The step count, the global norm, the updates and the averages of these variables as one C plan
        (None if update_step is the user's); the gradients are re-bound."""
        key = tuple(map(id, variables))  # (the entry keeps the variables alive, so their ids stay theirs)
        if key in self._batches:
            return self._batches[key][1]
        batch = None
        if getattr(self.update_step, "__func__", None) is Optimizer.update_step:  # else: as the user wrote it
            # the gradient arguments are re-bound on every run: built with the variable's own pointer, the plan
            # keeps no gradient alive
            own = [(v, v) for v in variables]
            calls = [(lib.ad_optim_step, (self._block._ptr,), (self._block,), self.name)]
            calls += [(kernel, tuple(args), operands, self.name) for operands, kernel, *args in self._norm_calls(own)]
            calls += [(*self._update_call(v, v), self._operands(v), self.name) for v in variables]
            calls += [(kernel, tuple(args), operands, self.name) for operands, kernel, *args in
                      self._ema_calls(variables)]
            rebind = [(i, ARGS[call[0].__name__]["grad"]) for i, call in enumerate(calls)
                      if "grad" in ARGS[call[0].__name__]]
            batch = KernelBatch.make(calls, rebind)
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
        """(kernel, args) updating var from grad: the kernel's (dtype, size, var, grad, *slots, block)."""
        return self.kernel, (code(var), var.size, var._ptr, grad._ptr, *self._slot_ptrs(var), self._block._ptr)

    def _slot_ptrs(self, var) -> list:
        slots = self._slots[id(var)][1]
        return [slots[s]._ptr if s in slots else NULL for s in self.slot_names]

    def get_config(self) -> dict:
        """The constructor's arguments (a schedule as {"module", "class_name", "config"}, as ad.saving.serialize
        writes it); from_config inverts it."""
        lr = self._hp[_HP.AD_HP_LR] if self._schedule is None else \
            {"module": "optimizers", "class_name": type(self._schedule).__name__, "config": self._schedule.get_config()}
        config = {"name": self.name, "learning_rate": lr}
        for klass in reversed(type(self).__mro__):
            for name, attr in vars(klass).items():
                if isinstance(attr, _Hyper):
                    config[name] = getattr(self, name)
        config.update(self._config())
        return config

    def _config(self) -> dict:
        """What get_config adds beyond the hyper-parameters in the block."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = SCHEDULES[lr["class_name"]].from_config(lr["config"])
        return cls(**config)


class SGD(Optimizer):
    slot_names = ("momentum",)
    kernel = staticmethod(lib.ad_sgd_update)
    momentum = _Hyper(_HP.AD_HP_MOMENTUM, UNIT)
    nesterov = _Hyper(_HP.AD_HP_NESTEROV, FLAG)

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum, self.nesterov = momentum, nesterov

    def _update_slots(self):
        return self.slot_names if self.momentum else ()


class _Moments(Optimizer):
    """Adam, Adamax and Nadam: decay rates of the first and second moments, and epsilon."""
    beta_1 = _Hyper(_HP.AD_HP_BETA_1, DECAY)
    beta_2 = _Hyper(_HP.AD_HP_BETA_2, DECAY)
    epsilon = _Hyper(_HP.AD_HP_EPSILON, POSITIVE)

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon


class Adam(_Moments):
    slot_names = ("m", "v", "vhat")
    kernel = staticmethod(lib.ad_adam_update)
    amsgrad = _Hyper(_HP.AD_HP_AMSGRAD, FLAG)

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = amsgrad

    def _update_slots(self):
        return self.slot_names if self.amsgrad else ("m", "v")


class AdamW(Adam):
    """Adam with decoupled weight decay: var -= learning_rate * weight_decay * var before each update."""

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    slot_names = ("velocity", "momentum", "average_gradient")
    kernel = staticmethod(lib.ad_rmsprop_update)
    rho = _Hyper(_HP.AD_HP_RHO, DECAY)
    momentum = _Hyper(_HP.AD_HP_MOMENTUM, UNIT)
    epsilon = _Hyper(_HP.AD_HP_EPSILON, POSITIVE)
    centered = _Hyper(_HP.AD_HP_CENTERED, FLAG)

    def __init__(self, learning_rate=0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
                 centered: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def _update_slots(self):
        return ("velocity",) + (("momentum",) if self.momentum else ()) + \
            (("average_gradient",) if self.centered else ())


class Adagrad(Optimizer):
    """accumulator += g**2; var -= lr * g / sqrt(accumulator + epsilon); the accumulator starts at
    initial_accumulator_value."""
    slot_names = ("accumulator",)
    kernel = staticmethod(lib.ad_adagrad_update)
    epsilon = _Hyper(_HP.AD_HP_EPSILON, POSITIVE)

    def __init__(self, learning_rate=0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _checked(self.name, "initial_accumulator_value", initial_accumulator_value,
                                                  NON_NEGATIVE)
        self.epsilon = epsilon

    def _slot_initial(self, name):
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def _config(self):
        return {"initial_accumulator_value": self.initial_accumulator_value}


class Adadelta(Optimizer):
    """Zeiler's Adadelta with Keras' epsilon inside both square roots, the step scaled by learning_rate."""
    slot_names = ("accumulated_grad", "accumulated_delta_var")
    kernel = staticmethod(lib.ad_adadelta_update)
    rho = _Hyper(_HP.AD_HP_RHO, UNIT)
    epsilon = _Hyper(_HP.AD_HP_EPSILON, POSITIVE)

    def __init__(self, learning_rate=0.001, rho: float = 0.95, epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.epsilon = rho, epsilon


class Adamax(_Moments):
    """Adam with the infinity norm: u = max(beta_2 * u, |g|); var -= lr * m / ((1 - beta_1**t) * (u + epsilon))."""
    slot_names = ("m", "u")
    kernel = staticmethod(lib.ad_adamax_update)


class Nadam(_Moments):
    """Adam with Nesterov momentum (Dozat), with Keras' momentum schedule beta_1 * (1 - 0.5 * 0.96**t)."""
    slot_names = ("m", "v")
    kernel = staticmethod(lib.ad_nadam_update)


class Lion(Optimizer):
    """var -= lr * sign(beta_1 * m + (1 - beta_1) * g); m = beta_2 * m + (1 - beta_2) * g."""
    slot_names = ("momentum",)
    kernel = staticmethod(lib.ad_lion_update)
    beta_1 = _Hyper(_HP.AD_HP_BETA_1, LION_BETA)
    beta_2 = _Hyper(_HP.AD_HP_BETA_2, UNIT)

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.99, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2 = beta_1, beta_2


ALIASES = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta,
           "adamax": Adamax, "nadam": Nadam, "lion": Lion}


def get(identifier) -> Optimizer:
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in ALIASES:
        return ALIASES[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}; one of {sorted(ALIASES)} or an Optimizer")


SCHEDULES = {k.__name__: k for k in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, CosineDecay)}
schedules = SimpleNamespace(LearningRateSchedule=LearningRateSchedule, **SCHEDULES)  # where Keras keeps them
