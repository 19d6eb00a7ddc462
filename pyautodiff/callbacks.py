"""Callbacks, as in Keras 3: objects whose hooks fit, evaluate and predict call with Keras' `logs` dicts.

A callback only reads logs and sets attributes (model.stop_training, the optimizer's learning_rate, which
lives in C memory the traced training step reads): none of them makes fit run eagerly or trace again.
"""

import csv
import math
import os
import warnings

from . import metrics as metrics_module

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
          "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")
_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end",
                "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Override any hook; `self.model` is the model being trained and `self.params` holds
    {"verbose", "epochs", "steps"} (steps None when the batches are not counted beforehand)."""

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)  # the older names are aliases, as in Keras

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)


def _overrides(cb, hook: str) -> bool:
    method = getattr(cb, hook, None)
    return method is not None and getattr(method, "__func__", method) is not getattr(Callback, hook, None)


class CallbackList:
    """The callbacks of one fit/evaluate/predict call, History last (so it records what the others add to
    the logs). Objects that are not Callbacks work too: only the hooks they define are called (a plain
    on_batch_end is called after each training batch)."""

    def __init__(self, callbacks, model, history=None, **params):
        self.callbacks = list(callbacks or []) + ([history] if history is not None else [])
        for cb in self.callbacks:
            if hasattr(cb, "set_model"):
                cb.set_model(model)
            if hasattr(cb, "set_params"):
                cb.set_params(params)
        # batch logs cost a read of every metric per batch: made only when some callback looks at them
        self.wants_batch_logs = any(_overrides(cb, hook) for cb in self.callbacks for hook in _BATCH_HOOKS)

    def call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is None and not isinstance(cb, Callback) and hook.startswith("on_train_batch_"):
                method = getattr(cb, hook.replace("_train", ""), None)
            if method is not None:
                method(*args)


class History(Callback):
    """What fit returns (also model.history): history maps "loss", "accuracy", "val_loss", ... to per-epoch
    lists; epoch lists the epochs run."""

    def __init__(self):
        super().__init__()
        self.history: dict = {}
        self.epoch: list = []

    def on_train_begin(self, logs=None):
        self.epoch = []  # a History given to fit again keeps its lists, as Keras'
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class _Monitor(Callback):
    """What EarlyStopping, ModelCheckpoint and ReduceLROnPlateau share (Keras' MonitorCallback): whether a
    monitored value improves on a reference by more than min_delta, in the direction of mode."""

    def __init__(self, monitor: str, mode: str, min_delta: float, baseline=None):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor, self.mode, self.min_delta, self.best = monitor, mode, abs(float(min_delta)), baseline

    @property
    def maximize(self) -> bool:
        if self.mode != "auto":
            return self.mode == "max"
        name = self.monitor.removeprefix("val_")
        if name == "loss":
            return False
        try:
            metric = metrics_module.get(name, getattr(self.model, "loss", None))
        except ValueError:
            metric = None
        if getattr(metric, "direction", None) in ("up", "down"):  # the metric's own fact
            return metric.direction == "up"
        raise ValueError(f"{type(self).__name__}: cannot tell whether monitor={self.monitor!r} should be maximized "
                         f"or minimized; pass mode='max' or mode='min'")

    def _is_improvement(self, value, reference) -> bool:
        maximize = self.maximize  # first: an unknown direction is an error at once, as in Keras
        if reference is None:
            return True
        return value - self.min_delta > reference if maximize else value + self.min_delta < reference

    def _value(self, logs, what: str):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__}: {what} is conditioned on {self.monitor!r}, which is not in the "
                          f"logs; available: {', '.join(logs or {})}", stacklevel=3)
        return value


class EarlyStopping(_Monitor):
    """Stops training when the monitored value has not improved for `patience` epochs (Keras 3's rule,
    baseline and start_from_epoch included); restore_best_weights sets the best epoch's weights back at
    the end of training."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best = self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = self._value(logs, "early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0  # only a value beating both the best so far and the baseline restarts the wait
        elif self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitor):
    """Saves the weights (model.save_weights, safetensors), or with save_weights_only=False the whole model
    (model.save), at the end of every epoch to filepath.format(epoch=epoch + 1, **logs); with save_best_only,
    only when the monitored value improved."""

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = True, mode: str = "auto", initial_value_threshold: float | None = None):
        super().__init__(monitor, mode, 0.0, initial_value_threshold)
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError) as e:
            raise KeyError(f"ModelCheckpoint: cannot format filepath {self.filepath!r} with epoch and the logs "
                           f"({', '.join(logs)}): missing {e}") from None
        if self.save_best_only:
            current = self._value(logs, "saving the best model")
            if current is not None:
                if not self._is_improvement(current, self.best):
                    if self.verbose > 0:
                        print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                    return
                self.best = current
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        (self.model.save_weights if self.save_weights_only else self.model.save)(path)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: saved the {'weights' if self.save_weights_only else 'model'} to {path}")


class ReduceLROnPlateau(_Monitor):
    """Multiplies the optimizer's learning rate by factor (not below min_lr) when the monitored value has not
    improved by min_delta for patience epochs, then waits cooldown epochs (Keras 3's rule); adds
    "learning_rate" to the epoch's logs."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0):
        super().__init__(monitor, mode, min_delta)
        if not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {factor!r}")
        self.factor, self.patience, self.verbose, self.cooldown, self.min_lr = factor, patience, verbose, cooldown, min_lr
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = optimizer.learning_rate
        current = self._value(logs, "learning rate reduction")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            old = optimizer.learning_rate
            if self.wait >= self.patience and old > self.min_lr:
                new = max(old * self.factor, self.min_lr)
                optimizer.learning_rate = new
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate to schedule(epoch, lr) (or schedule(epoch)) before each epoch."""

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            lr = self.schedule(epoch, optimizer.learning_rate)
        except TypeError:  # a one-argument schedule, as Keras allows
            lr = self.schedule(epoch)
        if isinstance(lr, bool) or not isinstance(lr, (int, float)):
            raise ValueError(f"LearningRateScheduler: the schedule must return a float, got {lr!r} at epoch {epoch}")
        optimizer.learning_rate = lr
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.model.optimizer.learning_rate


class CSVLogger(Callback):
    """Writes one row per epoch (epoch, then the logs' keys sorted) to filename; append continues a file."""

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._file = self._writer = self._keys = None

    def on_train_begin(self, logs=None):
        header = not (self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0)
        self._close()
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115 (on_train_end)
        self._writer, self._keys, self._header = None, None, header

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            if self._keys and not any(k.startswith("val_") for k in self._keys):
                self._keys += [f"val_{k}" for k in self._keys]  # Keras' columns: a later validation still fits
            self._writer = csv.DictWriter(self._file, ["epoch"] + self._keys, delimiter=self.separator)
            if self._header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}})
        self._file.flush()

    def on_train_end(self, logs=None):
        self._close()

    def _close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._writer = None


class TerminateOnNaN(Callback):
    """Stops training (or raises RuntimeError with raise_error) after a batch whose loss is NaN or inf."""

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            if self.raise_error:
                raise RuntimeError(f"TerminateOnNaN: loss {loss} at batch {batch}; training stopped")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from functions: any hook's name as a keyword, e.g. on_epoch_end=lambda epoch, logs: ..."""

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if name not in _HOOKS + ("on_batch_begin", "on_batch_end"):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}; one of {', '.join(_HOOKS)}")
            if fn is not None:
                setattr(self, name, fn)


__all__ = ["CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
           "LearningRateScheduler", "ModelCheckpoint", "ReduceLROnPlateau", "TerminateOnNaN"]
