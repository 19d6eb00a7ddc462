"""Model (subclass it, write call) and Sequential, with compile/fit/evaluate/predict/summary and
safetensors weights files.

A weights file maps each weight's path ("dense1.kernel", "layers.0.bias") to its tensor. The format is
an 8-byte little-endian header length, a JSON header {name: {"dtype", "shape", "data_offsets"}} and the
raw little-endian data; load_weights checks everything before it assigns anything.
"""

import contextlib
import itertools
import json
import math
import operator
import os
import re
import sys
import time
import warnings

from . import _backend as B
from . import _state as _shared
from . import debug, ops, pytree, saving
from . import initializers as initializers_module
from . import functional as graph
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .callbacks import CallbackList, History
from .data import NDArrayDataset, _Batches, _structure, yields_batches
from .function import Function
from .dtypes import ALL_FLOATS, FLOATS, ITEMSIZE
from .layers.base import Layer
from .tape import GradientTape
from .tensor import Tensor, as_tensor, empty, shape_size

_ST_DTYPES = {"float32": "F32", "float64": "F64", "int32": "I32", "int64": "I64", "bool": "BOOL", "float16": "F16"}
_ST_NAMES = {v: k for k, v in _ST_DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024  # the limit the safetensors package itself enforces
_MAX_DEPTH = 128  # the JSON nesting serde_json (the safetensors package's parser) accepts; ours is 3 deep
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: no state per character
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_DEPTH_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
# the optimizer's tensors in a model file (attributes starting with "_" are never weight paths)
OPTIMIZER_PREFIX = "__optimizer__."
OPTIMIZER_BLOCK = OPTIMIZER_PREFIX + "hyper"
# what building a loaded model may allocate beyond the bytes its file holds (the zeros a subclassed model is
# built on, weights in another dtype): a hostile config cannot make it allocate gigabytes
_BUILD_ALLOWANCE = 64 * 1024 * 1024


class _BadFile(ValueError):
    """A file or JSON that does not describe a valid model (its message names the file), told apart from the
    errors it wraps; callers get a plain ValueError."""


class Model(Layer):
    """Subclass it and write call, or give it a graph: `Model(inputs, outputs)` makes a functional model."""
    cast_inputs = False  # its layers cast what they take (an Embedding wants its indices as they are)
    builds_own_config = True  # saving.deserialize hands from_config the raw config: the layers are built here

    def __new__(cls, *args, **kwargs):
        # Keras' dispatch: Model itself called with inputs and outputs is a functional model
        if cls is Model and (len(args) >= 2 or (len(args) == 1 and "outputs" in kwargs) or
                             {"inputs", "outputs"} <= kwargs.keys()):
            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.optimizer = None
        self.loss = None
        self._metric_ids: list = []
        self.stop_training = False
        self.history = None  # fit's History (a callback), as Keras' model.history
        self.run_eagerly = False
        self.loss_weights = None
        self._train_function = None
        self._build_input_shape = None

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """A new model (fresh weights) from get_config's data: a functional model's graph, or else the keyword
        arguments of a subclass' constructor; custom_objects maps the names of classes and functions that are
        neither built in nor registered (ad.saving.register_keras_serializable) to them."""
        if not {"layers", "nodes"} <= config.keys():
            return cls(**saving.deserialize(config, custom_objects))
        layers = {}
        for entry in config["layers"]:
            layer = saving.deserialize(entry, custom_objects)
            if not isinstance(layer, Layer):
                raise ValueError(f"Model.from_config: {entry.get('class_name')!r} is not a layer class")
            layers[layer.name] = layer
        tensors = {t["name"]: graph.Input(t["shape"], t["dtype"], t["name"], t["batch_size"])
                   for t in config["inputs"]}
        outputs: list = []

        def decode(structure):
            leaves, treedef = pytree.flatten(structure, is_leaf=lambda v: not pytree.is_container(v) or (
                isinstance(v, dict) and "__tensor__" in v))
            return pytree.unflatten(treedef, [
                tensors[k] if isinstance(k, str) else pytree.flatten(outputs[k])[0][i]
                for k, i in (leaf["__tensor__"] for leaf in leaves)])

        for node in config["nodes"]:
            outputs.append(layers[node["layer"]](decode(node["args"]), **node["kwargs"]))
        return cls(decode(config["input_layers"]), decode(config["output_layers"]), name=config["name"],
                   trainable=config.get("trainable", True))

    def __getstate__(self) -> dict:
        """For pickle and copy.deepcopy: the traced training step holds kernel pointers; it is traced anew."""
        return {**super().__getstate__(), "_train_function": None}

    def call(self, inputs, training=False):
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Model implement call(inputs, training)")

    def build(self, input_shape) -> None:
        """Create every weight by running the model once on zeros of input_shape, or of each shape in a list or
        dict of them (a None size taken as 1)."""
        shapes, tree = pytree.flatten(input_shape, is_leaf=_is_shape)
        zeros = []
        for shape in shapes:
            shape = tuple(1 if d is None else d for d in shape)
            initializers_module.reserve(shape_size(shape) * ITEMSIZE[self.dtype], f"{self.name}.build")
            zeros.append(ops.zeros(shape, self.dtype))
        self.call(pytree.unflatten(tree, zeros), training=False)
        self.built = True

    def _build(self, input_shape) -> None:
        # a first call creates the weights by itself; only an overridden build (Sequential's, a user's) runs
        self._build_input_shape = input_shape  # (saved with the model: load_model builds it the same way)
        if type(self).build is not Model.build:
            self.build(input_shape)
        self.built = True

    # --- training configuration ---
    def compile(self, optimizer="adam", loss=None, metrics=None, loss_weights=None, run_eagerly: bool = False) -> None:
        """run_eagerly=False (the default) makes fit's training step an ad.Function: traced once per batch
        shape, then replayed in one C call. A model of several outputs takes loss, loss_weights and metrics
        per output (a list in output order or a dict by output name; one loss, or a flat list of metrics,
        serves every output)."""
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = None if loss is None else \
            {k: losses_module.get(v) for k, v in loss.items()} if isinstance(loss, dict) else \
            [losses_module.get(v) for v in loss] if isinstance(loss, (list, tuple)) else losses_module.get(loss)
        self.loss_weights = loss_weights
        self._metric_ids = dict(metrics) if isinstance(metrics, dict) else list(metrics or [])
        names = self._output_names()
        if names is None and (isinstance(self.loss, (list, dict)) or loss_weights is not None):
            raise ValueError(f"{self.name}.compile: a list or dict of losses, and loss_weights, are for models of "
                             f"several outputs")
        if names is not None:  # checked now rather than at the first batch
            self._per_output("compile", "loss", self.loss)
            self._per_output("compile", "loss_weights", loss_weights, 1.0)
            self._output_metric_ids()
        self.run_eagerly = run_eagerly
        self._train_function = None

    def _output_names(self) -> list | None:
        """The names of the outputs of a model of several outputs (or of a dict of them), else None."""
        return None

    def _per_output(self, where: str, what: str, value, default=None) -> list:
        """value for each output, in output order: from a dict by output name, a list by position, or one value
        for all."""
        names = self._output_names()
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(names))
            if unknown:
                raise ValueError(f"{self.name}.{where}: {what} names unknown outputs {unknown}; the outputs are "
                                 f"{names}")
            return [value.get(n, default) for n in names]
        if isinstance(value, (list, tuple)):
            if len(value) != len(names):
                raise ValueError(f"{self.name}.{where}: {what} has {len(value)} entries for {len(names)} outputs "
                                 f"{names}")
            return list(value)
        return [default if value is None else value] * len(names)

    def _output_metric_ids(self) -> list:
        """The metrics of each output (a dict by name, a list of lists, or a flat list for every output)."""
        ids = self._metric_ids
        if isinstance(ids, list) and not any(isinstance(m, (list, tuple)) for m in ids):
            return [ids] * len(self._output_names())
        return [list(m) if isinstance(m, (list, tuple)) else [] if m is None else [m]
                for m in self._per_output("compile", "metrics", ids)]

    def _require_compiled(self, what: str) -> None:
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"{self.name}.{what}: call compile(optimizer=..., loss=...) first")

    def _new_metrics(self, y_true, y_pred) -> dict:
        """{log name: (metric, output index or None)}; a model of several outputs names them "output_metric"."""
        names = self._output_names()
        if names is None:
            return {m.name: (m, None) for m in (metrics_module.get(i, self.loss, y_true, y_pred)
                                                for i in self._metric_ids)}
        ys, preds = self._outputs_of("y", y_true), pytree.flatten(y_pred)[0]
        losses = self._per_output("compile", "loss", self.loss)
        found = {}
        for k, ids in enumerate(self._output_metric_ids()):
            for i in ids:
                m = metrics_module.get(i, losses[k], ys[k], preds[k])
                found[f"{names[k]}_{m.name}"] = (m, k)
        return found

    def _outputs_of(self, what: str, value) -> list:
        """Targets (or predictions) of a model of several outputs as a list in output order."""
        if isinstance(value, (dict, list, tuple)):
            return self._per_output("fit", what, value)
        raise ValueError(f"{self.name}: {what} must be a list or a dict of arrays, one for each output "
                         f"{self._output_names()}, got {type(value).__name__}")

    def _one_loss(self, loss, y, pred, sample_weight):
        """A Loss weighs and reduces by itself (Keras 3); a plain function's values get Keras' default
        reduction (losses.reduce_weighted): their weighted sum over their number."""
        if isinstance(loss, losses_module.Loss):
            return loss(y, pred, sample_weight=sample_weight)
        if sample_weight is None:
            return loss(y, pred)
        return losses_module.reduce_weighted(self.name, loss(y, pred), sample_weight)

    def _loss_terms(self, y, pred, sample_weight=None) -> tuple:
        """(total, {"output_loss": value}): the compiled loss (per output, weighted by loss_weights, summed)
        plus the regularization penalties of model.losses, as Keras' compute_loss. With several outputs,
        sample_weight is one array for all of them, or a list / dict of arrays per output (Keras)."""
        names, parts = self._output_names(), {}
        if names is None:
            total = self._one_loss(self.loss, y, pred, sample_weight)
        else:
            total = None
            weights = self._per_output("fit", "sample_weight", sample_weight) if isinstance(sample_weight, (
                list, tuple, dict)) else [sample_weight] * len(names)
            for name, loss, weight, yt, yp, sw in zip(names, self._per_output("fit", "loss", self.loss),
                                                      self._per_output("fit", "loss_weights", self.loss_weights, 1.0),
                                                      self._outputs_of("y", y), pytree.flatten(pred)[0], weights):
                if loss is not None:
                    parts[f"{name}_loss"] = value = self._one_loss(loss, yt, yp, sw)
                    term = value if weight == 1 else ops.scale(float(weight), value)
                    total = term if total is None else ops.add(total, term)
            if total is None:
                raise ValueError(f"{self.name}: no output has a loss; compile(loss=...) names none of {names}")
        for penalty in self.losses:
            total = ops.add(total, penalty if penalty.dtype == total.dtype else ops.cast(penalty, total.dtype))
        return total, parts

    def _train_on_batch(self, x, y, sample_weight=None):
        with GradientTape() as tape:
            pred = self(x, training=True)
            loss, parts = self._loss_terms(y, pred, sample_weight)
        params = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, params), params))
        return loss, pred, parts

    def train_step(self, x, y, trackers: dict, sample_weight=None) -> None:
        if self.run_eagerly:
            loss, pred, parts = self._train_on_batch(x, y, sample_weight)
        else:
            if self._train_function is None:
                self._train_function = Function(self._train_on_batch)
            # a weighted batch is a signature of its own
            loss, pred, parts = self._train_function(x, y, sample_weight)
        self._track(trackers, loss, x, y, pred, parts)

    def test_step(self, x, y, trackers: dict, sample_weight=None) -> None:
        pred = self(x, training=False)
        loss, parts = self._loss_terms(y, pred, sample_weight)
        self._track(trackers, loss, x, y, pred, parts)

    def _track(self, trackers: dict, loss, x, y, pred, parts=None) -> None:
        """Trackers are {log name: (metric, output index or None)}: the loss, each output's loss, the metrics."""
        parts = parts or {}
        if "loss" not in trackers:
            for name in ("loss", *parts):
                trackers[name] = (metrics_module.Mean(name), None)
            trackers.update(self._new_metrics(y, pred))
        n = pytree.flatten(x)[0][0].shape[0]
        ys = preds = None
        for name, (m, k) in trackers.items():
            if name == "loss" or name in parts:
                m.update_state(ops.scale(float(n), loss if name == "loss" else parts[name]), n)
            elif k is None:
                m.update_state(y, pred)  # compiled metrics are unweighted, as Keras' `metrics` (not weighted_metrics)
            else:
                if ys is None:
                    ys, preds = self._outputs_of("y", y), pytree.flatten(pred)[0]
                m.update_state(ys[k], preds[k])

    # --- the loops ---
    def fit(self, x=None, y=None, epochs: int = 1, batch_size: int = 32, validation_data=None,
            shuffle: bool = True, verbose: int = 1, callbacks=None, seed: int | None = None,
            check_numerics: bool = False, validation_split: float = 0.0, sample_weight=None, class_weight=None,
            initial_epoch: int = 0, steps_per_epoch: int | None = None):
        """Keras' fit: x arrays with y, or a dataset / any iterable of (x, y[, sample_weight]) batches.
        check_numerics=True checks every op's output while fit runs (ad.debug.enable_check_numerics): the
        first NaN or inf raises ad.debug.NumericsError naming the op, before the update it would corrupt."""
        self._require_compiled("fit")
        if class_weight is not None and sample_weight is not None:
            raise ValueError(f"{self.name}.fit: give sample_weight or class_weight, not both")
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = self._split("fit", x, y, sample_weight, validation_split)
        train = self._batches("fit", x, y, sample_weight, batch_size, shuffle, seed, steps_per_epoch)
        val = None if validation_data is None else self._validation_batches(validation_data, batch_size)
        weigh = _class_weigher(self.name, class_weight)
        self.history = History()
        cbs = CallbackList(callbacks, self, self.history, verbose=verbose, epochs=epochs, steps=train.steps)
        live = sys.stdout.isatty()  # a redrawn bar only on a terminal; one line per epoch elsewhere
        self.stop_training = False
        logs: dict = {}
        with _numerics_checked(check_numerics):
            cbs.call("on_train_begin", {})
            for epoch in range(initial_epoch, epochs):
                cbs.call("on_epoch_begin", epoch, {})
                trackers: dict = {}
                start = time.perf_counter()
                steps = 0
                for step, (xb, yb, wb) in enumerate(train.epoch()):
                    steps = step + 1
                    cbs.call("on_train_batch_begin", step, {})
                    self.train_step(xb, yb, trackers, **_weight_arg(wb if weigh is None else weigh(yb)))
                    if verbose == 1 and live:
                        _progress(epoch, epochs, steps, train.steps or steps, trackers, time.perf_counter() - start, live)
                    cbs.call("on_train_batch_end", step, _results(trackers) if cbs.wants_batch_logs else {})
                    if self.stop_training:
                        break
                if train.exhausted:
                    warnings.warn(f"{self.name}.fit: the input ran out of data at epoch {epoch + 1}; training stops "
                                  f"(a generator needs steps_per_epoch * epochs batches)", stacklevel=2)
                    break
                logs = _results(trackers)
                if val is not None:
                    logs.update({f"val_{k}": v for k, v in self._run_test(val, cbs).items()})
                cbs.call("on_epoch_end", epoch, logs)
                if verbose:
                    _progress(epoch, epochs, steps, train.steps or steps, trackers, time.perf_counter() - start, live,
                              logs)
                if self.stop_training:
                    break
            self.optimizer.finalize_variable_values(self.trainable_variables)  # (use_ema: the averages, as Keras)
            cbs.call("on_train_end", logs)
        return self.history

    def evaluate(self, x=None, y=None, batch_size: int = 32, verbose: int = 0, sample_weight=None, steps=None,
                 callbacks=None) -> dict:
        self._require_compiled("evaluate")
        batches = self._batches("evaluate", x, y, sample_weight, batch_size, False, 0, steps)
        logs = self._run_test(batches, CallbackList(callbacks, self, verbose=verbose, epochs=1, steps=batches.steps))
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        return logs

    def _run_test(self, batches, cbs) -> dict:
        """evaluate's loop, also fit's validation (with fit's callbacks, as Keras)."""
        trackers: dict = {}
        cbs.call("on_test_begin", {})
        for step, (xb, yb, wb) in enumerate(batches.epoch()):
            cbs.call("on_test_batch_begin", step, {})
            self.test_step(xb, yb, trackers, **_weight_arg(wb))
            cbs.call("on_test_batch_end", step, _results(trackers) if cbs.wants_batch_logs else {})
        if not trackers:
            raise ValueError(f"{self.name}.evaluate: the data yielded no batch")
        logs = _results(trackers)
        cbs.call("on_test_end", logs)
        return logs

    def predict(self, x, batch_size: int = 32, verbose: int = 0, steps=None, callbacks=None) -> Tensor:
        batches = self._batches("predict", x, None, None, batch_size, False, 0, steps)
        if isinstance(batches.source, NDArrayDataset) and not batches.source.samples:
            return self(batches.source.inputs, training=False)  # an empty batch in, an empty batch out
        cbs = CallbackList(callbacks, self, verbose=verbose, epochs=1, steps=batches.steps)
        cbs.call("on_predict_begin", {})
        outputs = []
        for step, (xb, _, _) in enumerate(batches.epoch()):
            cbs.call("on_predict_batch_begin", step, {})
            outputs.append(self(xb, training=False))
            cbs.call("on_predict_batch_end", step, {"outputs": outputs[-1]})
        cbs.call("on_predict_end", {})
        if not outputs:
            raise ValueError(f"{self.name}.predict: the data yielded no batch")
        if len(outputs) == 1:
            return outputs[0]
        columns, tree = zip(*(pytree.flatten(out) for out in outputs))  # (several outputs: each concatenated)
        return pytree.unflatten(tree[0], [ops.concat(list(parts), 0) for parts in zip(*columns)])

    # --- one batch (Keras' return conventions: the loss alone, or [loss, metrics...] with compiled metrics) ---
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        self._require_compiled("train_on_batch")
        return self._one_batch("train_on_batch", self.train_step, x, y, sample_weight, class_weight, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        self._require_compiled("test_on_batch")
        return self._one_batch("test_on_batch", self.test_step, x, y, sample_weight, None, return_dict)

    def predict_on_batch(self, x) -> Tensor:
        return self(as_tensor(x, None, f"{self.name}.predict_on_batch"), training=False)

    def _one_batch(self, what, step, x, y, sample_weight, class_weight, return_dict):
        if class_weight is not None and sample_weight is not None:
            raise ValueError(f"{self.name}.{what}: give sample_weight or class_weight, not both")
        x, y = (None if v is None else _structure(v, f"{self.name}.{what}") for v in (x, y))
        w = None if sample_weight is None else _structure(sample_weight, f"{self.name}.{what}")
        if y is None:
            raise ValueError(f"{self.name}.{what}: expects inputs x and targets y")
        weigh = _class_weigher(self.name, class_weight)
        trackers: dict = {}
        step(x, y, trackers, **_weight_arg(w if weigh is None else weigh(y)))
        logs = _results(trackers)
        return logs if return_dict else (logs["loss"] if len(logs) == 1 else list(logs.values()))

    # --- data ---
    def _batches(self, what: str, x, y, sample_weight, batch_size, shuffle, seed, steps=None) -> _Batches:
        where = f"{self.name}.{what}"
        if yields_batches(x):
            if y is not None or sample_weight is not None:
                raise ValueError(f"{where}: x yields batches, so y and sample_weight come in them (got them apart)")
            if isinstance(x, NDArrayDataset) and not x.samples and what != "predict":
                raise ValueError(f"{where}: no data: the dataset's inputs hold 0 samples")
            return _Batches(where, x, steps)
        if x is None or (what != "predict" and y is None):
            raise ValueError(f"{where}: expects inputs x" + (" and targets y" if what != "predict" else ""))
        try:
            dataset = NDArrayDataset(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed,
                                     sample_weights=sample_weight)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        if not dataset.samples and what != "predict":
            raise ValueError(f"{where}: no data: the inputs of shape {pytree.flatten(dataset.inputs)[0][0].shape} "
                             f"hold 0 samples")
        return _Batches(where, dataset, steps)

    def _validation_batches(self, data, batch_size) -> _Batches:
        """validation_data: (x, y) or (x, y, sample_weight) arrays, or a dataset / iterable of batches."""
        if yields_batches(data):
            return self._batches("evaluate", data, None, None, batch_size, False, 0)
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError(f"{self.name}.fit: validation_data must be (x, y), (x, y, sample_weight), a dataset "
                             f"or an iterable of batches, got {type(data).__name__}")
        return self._batches("evaluate", data[0], data[1], data[2] if len(data) == 3 else None, batch_size, False, 0)

    def _split(self, what, x, y, sample_weight, fraction) -> tuple:
        """Keras' validation_split: the last fraction of the arrays (taken before any shuffling) validates."""
        where = f"{self.name}.{what}"
        if not (isinstance(fraction, (int, float)) and 0 < fraction < 1):
            raise ValueError(f"{where}: validation_split must be a fraction in (0, 1), got {fraction!r}")
        if yields_batches(x) or x is None or y is None:
            raise ValueError(f"{where}: validation_split needs arrays x and y (pass validation_data with a dataset "
                             f"or batches)")
        arrays = [None if v is None else _structure(v, where) for v in (x, y, sample_weight)]
        first = pytree.flatten(arrays[0])[0][0]
        n = first.shape[0] if first.ndim else 0
        split_at = math.floor(n * (1.0 - fraction))
        if split_at in (0, n):
            raise ValueError(f"{where}: validation_split={fraction} of {n} samples leaves "
                             f"{'no training' if split_at == 0 else 'no validation'} sample")
        return [_sliced(a, slice(None, split_at)) for a in arrays], tuple(_sliced(a, slice(split_at, None))
                                                                        for a in arrays)

    # --- introspection ---
    def summary(self, print_fn=print) -> None:
        rows = [(f"{layer.name} ({type(layer).__name__})", "?" if layer.output_shape is None else
                 str(layer.output_shape), layer.count_params()) for layer in self.layers]
        total = self.count_params()
        trainable = sum(v.size for v in self.trainable_variables)
        widths = [max([len(h)] + [len(str(r[i])) for r in rows]) + 2 for i, h in
                  enumerate(("Layer (type)", "Output Shape", "Param #"))]
        line = "".join(h.ljust(w) for h, w in zip(("Layer (type)", "Output Shape", "Param #"), widths))
        rule = "=" * len(line)
        print_fn(f'Model: "{self.name}"')
        print_fn(rule)
        print_fn(line)
        print_fn(rule)
        for r in rows:
            print_fn("".join(str(c).ljust(w) for c, w in zip(r, widths)))
        print_fn(rule)
        print_fn(f"Total params: {total}")
        print_fn(f"Trainable params: {trainable}")
        print_fn(f"Non-trainable params: {total - trainable}")

    # --- weights ---
    def _named_weights(self, what: str) -> list:
        named = [(path, var) for path, var, _ in self._walk()]
        if not named:
            raise ValueError(f"{self.name}.{what}: the model has no weights yet; call it on a batch of inputs "
                             f"(or build it) first")
        return named

    def save_weights(self, path) -> None:
        _safetensors_path("save_weights", path)
        _write_safetensors("save_weights", path, self._named_weights("save_weights"), {"format": "pyautodiff"})

    def load_weights(self, path) -> None:
        _safetensors_path("load_weights", path)
        named = self._named_weights("load_weights")
        values = _read_safetensors("load_weights", path, lambda metadata, data_size, bad: dict(named))
        for name, var in named:  # only once the whole file was checked
            var.assign(values[name])

    # --- the whole model ---
    def _document(self, compiled: bool) -> dict:
        """serialize(model) with its build input shape (and, compiled, its compile arguments), as Keras'."""
        if type(self).get_config is Layer.get_config:  # (Functional and Sequential describe themselves)
            raise NotImplementedError(f"{self.name}: a subclassed model is saved with its architecture only when "
                                      f"its class implements get_config() (the constructor's arguments) and is "
                                      f"registered (ad.saving.register_keras_serializable) or given to load_model "
                                      f"in custom_objects; save_weights saves the weights alone")
        shape = None if self._build_input_shape is None else _unbatched(self._build_input_shape)
        document = {**saving.serialize(self), "build_config": {"input_shape": shape}}
        if compiled and self.optimizer is not None:
            document["compile_config"] = saving.serialize({
                "optimizer": self.optimizer, "loss": self.loss, "loss_weights": self.loss_weights,
                "metrics": self._metric_ids, "run_eagerly": self.run_eagerly})
        return document

    def to_json(self, **kwargs) -> str:
        """The architecture as JSON (no weights): ad.models.model_from_json rebuilds the model."""
        return json.dumps(self._document(compiled=False), **kwargs)

    def save(self, path) -> None:
        """One safetensors file: the weights, the optimizer's state (step count, hyper-parameters, slots) and,
        in the header's metadata, the architecture and compile arguments as JSON (ad.models.load_model)."""
        _safetensors_path("save", path)
        named = self._named_weights("save")
        document = self._document(compiled=True)
        if self.optimizer is not None:
            state = self._optimizer_state(named)
            document["optimizer_slots"] = {path: list(slots) for path, slots in state.items()}
            named += [(OPTIMIZER_BLOCK, self.optimizer._block)] + [
                (f"{OPTIMIZER_PREFIX}{path}.{slot}", var) for path, slots in state.items() for slot, var in slots.items()]
        _write_safetensors("save", path, named, {"format": "pyautodiff", "pyautodiff_model": json.dumps(document)})

    def _optimizer_state(self, named: list) -> dict:
        """{weight path: {slot name: Variable}} of the optimizer's slots for this model's weights."""
        slots = self.optimizer._slots
        return {path: dict(slots[id(var)][1]) for path, var in named if id(var) in slots and slots[id(var)][1]}

    def _restore(self, document: dict, named: dict, custom_objects, bad) -> dict:
        """Compile as the file says and make the optimizer slots it holds: {file name: Variable} of them."""
        config = saving.deserialize(document["compile_config"], custom_objects)
        if not isinstance(config, dict) or not isinstance(config.get("optimizer"), optimizers_module.Optimizer):
            raise bad("compile_config holds no optimizer")
        self.compile(optimizer=config["optimizer"], loss=config.get("loss"), metrics=config.get("metrics"),
                     loss_weights=config.get("loss_weights"), run_eagerly=bool(config.get("run_eagerly", False)))
        optimizer, expected = self.optimizer, {OPTIMIZER_BLOCK: self.optimizer._block}
        slots = document.get("optimizer_slots", {})
        allowed = set(optimizer.slot_names) | {"average"}
        if not isinstance(slots, dict):
            raise bad("optimizer_slots is not an object")
        for path, names in slots.items():
            if path not in named or not isinstance(names, list) or not set(names) <= allowed:
                raise bad(f"optimizer slots {names!r} for {path!r}: not a weight of the model or not slots of "
                          f"{type(optimizer).__name__} {sorted(allowed)}")
            optimizer.build([named[path]], names)
            expected.update({f"{OPTIMIZER_PREFIX}{path}.{s}": optimizer.get_slot(named[path], s) for s in names})
        return expected


def _write_safetensors(what: str, path, named: list, metadata: dict) -> None:
    """named [(name, Variable)] as a safetensors file, metadata {str: str} in its header."""
    if sys.byteorder != "little":
        raise RuntimeError(f"{what}: safetensors data is little-endian; this machine is not")
    header, offset = {"__metadata__": metadata}, 0
    for name, var in named:
        header[name] = {"dtype": _ST_DTYPES[var.dtype], "shape": list(var.shape),
                        "data_offsets": [offset, offset + var.nbytes]}
        offset += var.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as the safetensors writer does
    # a failed write (disk full, file-size limit) must not leave a truncated file where a valid one was:
    # write a temporary file in the same folder, then rename it over the target (atomic)
    path = os.fspath(path)
    folder, base = os.path.split(path)
    temp = os.path.join(folder, f".{base}.{os.urandom(4).hex()}.tmp")
    f = open(temp, "xb")  # noqa: SIM115 (the with below closes it; opened first: only a file we made is removed)
    try:
        with f:
            f.write(len(text).to_bytes(8, "little"))
            f.write(text)
            for _, var in named:
                if var.nbytes:
                    f.write(B.view(var._ptr, var.nbytes))
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


# suffixes of other frameworks' weight files: writing safetensors under such a name would mislead their readers
_FOREIGN_SUFFIXES = (".h5", ".hdf5", ".keras", ".pt", ".pth", ".ckpt", ".npz", ".pkl")


def _safetensors_path(what: str, path) -> None:
    if os.fspath(path).lower().endswith(_FOREIGN_SUFFIXES):
        raise ValueError(f"{what}: weights are stored in the safetensors format; name the file *.safetensors, "
                         f"not {os.path.basename(os.fspath(path))!r}")


def _read_safetensors(what: str, path, expect) -> dict:
    """{name: Tensor} from a safetensors file, checked against the {name: Variable (or None: an entry checked
    but not read)} that expect(metadata, data_size, bad) returns (the header's metadata, the bytes of data);
    ValueError naming the file.

    The file is untrusted: the header is read only up to the file's size (and _MAX_HEADER), every entry is
    checked against the model before any data is read, and the data, which must tile the rest of the file
    exactly (the format's rule), is read straight into tensors of the model's sizes."""
    def bad(why):
        kind = "weights file for this model" if what == "load_weights" else "model file"
        return _BadFile(f"{what}: {os.fspath(path)!r} is not a valid {kind}: {why}")

    try:
        with open(path, "rb") as f:
            return _read_checked(f, os.fstat(f.fileno()).st_size, expect, bad)
    except _BadFile as e:
        raise ValueError(*e.args) from None  # (a plain ValueError for the caller)
    except OSError as e:
        raise OSError(f"{what}: cannot read {os.fspath(path)!r}: {e.strerror or e}") from None


def parse_json(text: bytes, what: str, bad):
    """Untrusted JSON: nesting capped before json.loads (which recurses per level), duplicate keys refused."""
    if _nesting(text) > _MAX_DEPTH:  # 10,000 levels overflow Pyodide's stack for good
        raise bad(f"{what} nests deeper than {_MAX_DEPTH} levels")
    try:
        return json.loads(text.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise bad(f"{what} is not JSON ({e})") from None


def _nesting(text: bytes) -> int:
    """The deepest bracket nesting outside JSON strings, with C-speed bytes operations (no recursion, no Python
    step per byte): strings dropped, brackets kept as 1 + their change in depth, whose prefix sums less the
    position are the depths (an unterminated string's brackets count too: such a header is not JSON anyway)."""
    steps = _JSON_STRING.sub(b"", text).translate(_DEPTH_STEPS, _NOT_BRACKETS)
    return max(map(operator.sub, itertools.accumulate(steps), itertools.count(1)), default=0)


def _unique_keys(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
    return dict(pairs)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _read_checked(f, file_size: int, expect, bad) -> dict:
    if file_size < 8:
        raise bad(f"{file_size} bytes is too short for a safetensors header")
    size = int.from_bytes(f.read(8), "little")
    if size > file_size - 8:
        raise bad(f"header length {size} exceeds the file ({file_size} bytes)")
    if size > _MAX_HEADER:
        raise bad(f"header length {size} exceeds the limit of {_MAX_HEADER} bytes")
    header = parse_json(f.read(size), "the header", bad)
    if not isinstance(header, dict):
        raise bad("the header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    data_size = file_size - 8 - size
    expected = expect(metadata, data_size, bad)
    missing = sorted(set(expected) - set(header))
    extra = sorted(set(header) - set(expected))
    if missing or extra:
        raise bad(f"missing weights {missing}" if missing else f"unexpected weights {extra}")
    spans = []
    for name, var in expected.items():
        entry = header[name]
        if not isinstance(entry, dict):
            raise bad(f"entry {name!r} is not an object")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in _ST_NAMES:
            raise bad(f"weight {name!r} has unsupported dtype {dtype!r} (F16, F32, F64, I32, I64 or BOOL)")
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise bad(f"weight {name!r} has an invalid shape {shape!r}")
        if var is not None and tuple(shape) != var.shape:
            raise bad(f"weight {name!r} has shape {tuple(shape)}, the model's has shape {var.shape}")
        if var is not None and (_ST_NAMES[dtype] in ALL_FLOATS) != (var.dtype in ALL_FLOATS):
            raise bad(f"weight {name!r} is {dtype} in the file but {var.dtype} in the model")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)):
            raise bad(f"weight {name!r} has invalid data_offsets {offsets!r}")
        begin, end = offsets
        nbytes = shape_size(shape) * ITEMSIZE[_ST_NAMES[dtype]]
        if not 0 <= begin <= end <= data_size or end - begin != nbytes:
            raise bad(f"weight {name!r} ({dtype} {tuple(shape)}): data_offsets {offsets} do not hold {nbytes} "
                      f"bytes within the {data_size} bytes of data")
        spans.append((begin, end, name))
    covered = 0  # the data must be tiled by the weights in order: no overlaps, no holes, nothing after
    for begin, end, name in sorted(spans):
        if begin != covered:
            raise bad(f"weight {name!r}: data_offsets [{begin}, {end}] " +
                      ("overlap another weight's" if begin < covered else f"leave bytes {covered}..{begin} unused"))
        covered = end
    if covered != data_size:
        raise bad(f"{data_size - covered} bytes after the last weight's data")
    values = {}
    for name, var in expected.items():
        if var is None:  # checked and covered, not read
            continue
        entry = header[name]
        begin, end = entry["data_offsets"]
        t = empty(var.shape, _ST_NAMES[entry["dtype"]])
        if end > begin:
            f.seek(8 + size + begin)
            if f.readinto(B.view(t._ptr, end - begin)) != end - begin:
                raise bad(f"weight {name!r}: the file ended early (it changed while being read?)")
        values[name] = ops.cast(t, var.dtype)
    return values


class Functional(Model):
    """A model whose call runs a graph of layer calls recorded on symbolic inputs (ad.Input), in topological
    order; inputs and outputs are one symbolic tensor, a list or a dict of them."""

    def __init__(self, inputs, outputs, name: str | None = None, trainable: bool = True):
        super().__init__(name=name, trainable=trainable)
        self._inputs, self._outputs = inputs, outputs
        self._input_leaves, _ = pytree.flatten(inputs)
        self._output_leaves, self._output_tree = pytree.flatten(outputs)
        for what, leaves in (("inputs", self._input_leaves), ("outputs", self._output_leaves)):
            if not leaves or not all(isinstance(t, graph.SymbolicTensor) for t in leaves):
                raise TypeError(f"Model {self.name!r}: {what} must be symbolic tensors (from ad.Input and layers "
                                f"called on them), a list or a dict of them, got {_describe(leaves)}")
        made = [t.name for t in self._input_leaves if t.node is not None]
        if made:
            raise ValueError(f"Model {self.name!r}: inputs must come from ad.Input; {made} are layer outputs")
        self._nodes = graph.topological_nodes(f"Model {self.name!r}", self._input_leaves, self._output_leaves)
        self._graph_layers: list = []
        for node in self._nodes:
            if all(node.layer is not layer for layer in self._graph_layers):
                self._graph_layers.append(node.layer)
        names = [layer.name for layer in self._graph_layers]
        if len(set(names)) != len(names):
            raise ValueError(f"Model {self.name!r}: layer names must be unique, {names} repeat "
                             f"{sorted({n for n in names if names.count(n) > 1})}")
        self.built = True
        self.output_shape = self.compute_output_shape(None)

    def _children(self):
        for layer in self._graph_layers:
            yield layer.name, layer

    @property
    def inputs(self) -> list:
        return list(self._input_leaves)

    @property
    def outputs(self) -> list:
        return list(self._output_leaves)

    @property
    def output_names(self) -> list:
        """The keys of a dict of outputs, else the names of the output tensors (their layers' names)."""
        return list(self._outputs) if isinstance(self._outputs, dict) else [t.name for t in self._output_leaves]

    def _output_names(self) -> list | None:
        several = len(self._output_leaves) > 1 or isinstance(self._outputs, dict)
        return self.output_names if several else None

    def compute_output_shape(self, input_shape):
        return pytree.unflatten(self._output_tree, [t.shape for t in self._output_leaves])

    def __call__(self, inputs, training: bool = False, **kwargs):
        if not graph.is_symbolic(inputs):
            inputs = self._standardize(inputs)
        return super().__call__(inputs, training=training, **kwargs)

    def _standardize(self, inputs) -> list:
        """The given inputs as a list of tensors in the order of the model's inputs, checked against them."""
        expected = self._input_leaves
        if isinstance(inputs, dict):
            keys = list(self._inputs) if isinstance(self._inputs, dict) else [t.name for t in expected]
            missing = [k for k in keys if k not in inputs]
            if missing or len(inputs) != len(keys):
                raise ValueError(f"Model {self.name!r}: expects inputs named {keys}, got {list(inputs)}")
            given = [inputs[k] for k in keys]
        elif len(expected) == 1:
            # a one-item list holding an array is that array (a nested list of numbers is the array itself)
            given = list(inputs) if isinstance(inputs, (list, tuple)) and len(inputs) == 1 and hasattr(
                inputs[0], "shape") else [inputs]
        elif isinstance(inputs, (list, tuple)) and len(inputs) == len(expected):
            given = list(inputs)
        else:
            raise ValueError(f"Model {self.name!r}: expects {len(expected)} inputs {[t.name for t in expected]} "
                             f"(a list or a dict), got {_describe(inputs)}")
        tensors = []
        for sym, value in zip(expected, given):
            t = as_tensor(value, None, self.name)
            if t.ndim != sym.ndim or any(d is not None and d != n for d, n in zip(sym.shape, t.shape)):
                raise ValueError(f"Model {self.name!r}: input {sym.name!r} expects shape {sym.shape}, got {t.shape}")
            tensors.append(t if t.dtype == sym.dtype else ops.cast(t, sym.dtype))
        return tensors

    def call(self, inputs, training=False):
        values = dict(zip(map(id, self._input_leaves), inputs))
        graph.run(self._nodes, values, training)
        return pytree.unflatten(self._output_tree, [values[id(t)] for t in self._output_leaves])

    def get_config(self) -> dict:
        """The graph as JSON-able data: each layer's class and config, the inputs and the calls in order."""
        node_index = {id(node): k for k, node in enumerate(self._nodes)}

        def ref(t):
            return {"__tensor__": [t.name if t.node is None else node_index[id(t.node)], t.index]}

        def encode(structure):
            leaves, treedef = pytree.flatten(structure)
            return pytree.unflatten(treedef, [ref(t) for t in leaves])

        return {"name": self.name, "trainable": self.trainable,
                "layers": [saving.serialize(layer) for layer in self._graph_layers],
                "inputs": [{"name": t.name, "shape": list(t.shape[1:]), "batch_size": t.shape[0], "dtype": t.dtype}
                           for t in self._input_leaves],
                "nodes": [{"layer": node.layer.name, "args": encode(node.inputs), "kwargs": node.kwargs}
                          for node in self._nodes],
                "input_layers": encode(self._inputs), "output_layers": encode(self._outputs)}


def _describe(value) -> str:
    return type(value).__name__ if not isinstance(value, (list, tuple)) else \
        f"{type(value).__name__} of {[type(v).__name__ for v in value]}"


class Sequential(Model):
    """Layers applied in order; built at once when the first layer has an input_shape."""

    def __init__(self, layers=None, name: str | None = None):
        super().__init__(name=name)
        self._stack: list = []
        self._input_shape = None  # (batch, ...) of an ad.Input given first, as Keras' Sequential([Input(...), ...])
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        if isinstance(layer, graph.SymbolicTensor) and layer.node is None and not self._stack and \
                self._input_shape is None:
            self._input_shape = layer.shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"{self.name}.add: expects a Layer, got {type(layer).__name__} (an ad.Input only "
                            f"comes first)")
        self._stack.append(layer)
        _shared.weights_changed()  # (a cached walk of the weights does not see _stack)
        first = self._stack[0]
        shape = self._input_shape or (None if first.input_shape is None else (None,) + first.input_shape)
        if shape is not None:
            self._build(shape)

    def _children(self):
        for i, layer in enumerate(self._stack):
            yield f"layers.{i}", layer

    def build(self, input_shape) -> None:
        shape = tuple(input_shape)
        for layer in self._stack:
            if not layer.built:
                layer._build(shape)
            shape = layer.compute_output_shape(shape)
            layer.output_shape = shape

    def compute_output_shape(self, input_shape):
        for layer in self._stack:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self) -> dict:
        shape = self._build_input_shape
        return {"name": self.name, "trainable": self.trainable, "layers": [saving.serialize(layer) for layer in
                                                                           self._stack],
                "build_input_shape": None if shape is None else _unbatched(shape)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        layers = [saving.deserialize(entry, custom_objects) for entry in config["layers"]]
        if not all(isinstance(layer, Layer) for layer in layers):
            raise ValueError("Sequential.from_config: every entry of layers must be a layer")
        model = cls(layers, name=config.get("name"))
        model.trainable = config.get("trainable", True)
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model._build(_checked_shape(shape))
        return model

    def call(self, inputs, training=False):
        if not self._stack:
            raise ValueError(f"{self.name}: a Sequential model needs at least one layer")
        x, mask = inputs, None
        for layer in self._stack:  # each layer's output mask (Embedding(mask_zero=True)...) goes to the next
            x, mask = layer.call_masked(x, mask, training)
        return x


def _unbatched(shape):
    """A build shape (or a structure of them) with the batch size unknown, as saved."""
    leaves, tree = pytree.flatten(shape, is_leaf=_is_shape)
    return pytree.unflatten(tree, [[None, *s[1:]] for s in leaves])


def _checked_shape(shape):
    """A saved build shape (a list, or a list/dict of them) as tuples of sizes >= 0 or None."""
    leaves, tree = pytree.flatten(shape, is_leaf=_is_shape)
    if not leaves or not all(_is_shape(s) and s and all(d is None or (d >= 0 and not isinstance(d, bool)) for d in s)
                             for s in leaves):
        raise ValueError(f"an input shape must be a list of sizes >= 0 or None, got {shape!r}")
    return pytree.unflatten(tree, [tuple(s) for s in leaves])


def _build_model(document, custom_objects, bad, budget: int) -> "Model":
    """The model a document of Model._document describes, built (weights made) under an allocation limit."""
    entry = {k: document[k] for k in ("module", "class_name", "config") if k in document} \
        if isinstance(document, dict) else None
    if not saving.is_entry(entry):
        raise bad("expects an object with class_name and config, as Model.to_json writes")
    with _blamed(bad), initializers_module.allocation_limit(budget):
        model = saving.deserialize(entry, custom_objects)
        if not isinstance(model, Model):
            raise bad(f"{entry['class_name']!r} is not a model class")
        build = document.get("build_config") or {}
        if not model.built and isinstance(build, dict) and build.get("input_shape") is not None:
            model.build(_checked_shape(build["input_shape"]))
    return model


@contextlib.contextmanager
def _blamed(bad, prefix: str = ""):
    """Errors while building from untrusted data become bad(...), naming the file (a _BadFile passes as is)."""
    try:
        yield
    except _BadFile:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, MemoryError) as e:
        raise bad(f"{prefix}{type(e).__name__}: {e}") from None


def model_from_json(json_string, custom_objects: dict | None = None) -> Model:
    """A new model (fresh weights) from Model.to_json's JSON; classes and functions that are neither built in
    nor registered come from custom_objects. The JSON is untrusted: classes are only looked up by name."""
    text = json_string.encode() if isinstance(json_string, str) else bytes(json_string)

    def bad(why):
        return _BadFile(f"model_from_json: not a valid model description: {why}")
    try:
        if len(text) > _MAX_HEADER:
            raise bad(f"{len(text)} bytes exceed the limit of {_MAX_HEADER}")
        return _build_model(parse_json(text, "the text", bad), custom_objects, bad, _BUILD_ALLOWANCE)
    except _BadFile as e:
        raise ValueError(*e.args) from None  # (a plain ValueError for the caller)


def load_model(path, custom_objects: dict | None = None, compile: bool = True) -> Model:  # noqa: A002 (Keras' name)
    """The model Model.save wrote: architecture, weights and (compile=True) the compiled optimizer with its
    state, loss and metrics, so that fit continues as it would have. The file is untrusted, as load_weights'."""
    _safetensors_path("load_model", path)
    loaded = {}

    def expect(metadata, data_size, bad):
        if not isinstance(metadata, dict) or not isinstance(metadata.get("pyautodiff_model"), str):
            raise bad("its metadata holds no model (a file of save_weights? load it with model.load_weights)")
        document = parse_json(metadata["pyautodiff_model"].encode(), "the model's JSON", bad)
        model = loaded["model"] = _build_model(document, custom_objects, bad, data_size + _BUILD_ALLOWANCE)
        named = dict(model._named_weights("load_model"))
        loaded["expected"] = named
        if compile and "compile_config" in document:
            with _blamed(bad, "compile_config: "):
                loaded["expected"] = {**named, **model._restore(document, named, custom_objects, bad)}
        elif "compile_config" in document:  # compile=False: the loss and optimizer are never looked up, and the
            slots = document.get("optimizer_slots", {})  # optimizer's tensors are checked but not read (None)
            if not isinstance(slots, dict) or not all(isinstance(v, list) for v in slots.values()):
                raise bad("optimizer_slots is not an object of lists")
            loaded["expected"] = {**named, OPTIMIZER_BLOCK: None, **{
                f"{OPTIMIZER_PREFIX}{path}.{s}": None for path, names in slots.items() for s in names}}
        return loaded["expected"]

    values = _read_safetensors("load_model", path, expect)
    model = loaded["model"]
    for name, var in loaded["expected"].items():
        if var is not None:
            var.assign(values[name])
    return model


def _sliced(value, part: slice):
    """A Tensor, or each Tensor of a list or dict of them, sliced along the batch axis (None stays None)."""
    leaves, tree = pytree.flatten(value)
    return pytree.unflatten(tree, [t if t is None else t[part] for t in leaves])


def _is_shape(v) -> bool:
    return isinstance(v, (tuple, list)) and all(d is None or isinstance(d, int) for d in v)


def _results(trackers: dict) -> dict:
    return {k: m.result() for k, (m, _) in trackers.items()}


def _weight_arg(sample_weight) -> dict:
    """train_step/test_step's keyword, only when there are weights (an overridden step may not take it)."""
    return {} if sample_weight is None else {"sample_weight": sample_weight}


def _class_weigher(name: str, class_weight):
    """A function from a batch's targets to Keras' class_weight sample weights (classes not in the dict
    weigh 1), or None: class indices, one-hot rows (argmax) or (batch, 1) columns, rounded."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict) or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 0
                                                     for k in class_weight):
        raise ValueError(f"{name}: class_weight must be a dict from class indices >= 0 to weights, got {class_weight!r}")
    size = max(class_weight, default=-1) + 2  # one entry more: weight 1 for every larger class
    table = as_tensor([float(class_weight.get(c, 1.0)) for c in range(size)], "float32", name)

    def weigh(y):
        if y.ndim > 2 or y.ndim == 0:
            raise ValueError(f"{name}: class_weight needs targets of shape (batch,), (batch, 1) or (batch, classes), "
                             f"got {y.shape}")
        labels = ops.argmax(y, -1) if y.ndim == 2 and y.shape[1] != 1 else ops.reshape(y, (y.shape[0],))
        if labels.dtype in FLOATS:
            labels = ops.increment(labels, 0.5)  # rounded, as Keras does, by the truncating cast
        return ops.gather(table, ops.minimum(ops.cast(labels, "int32"), size - 1))
    return weigh


@contextlib.contextmanager
def _numerics_checked(on: bool):
    """fit's check_numerics: enabled for the duration unless it already is."""
    if not on or debug.is_check_numerics_enabled():
        yield
        return
    debug.enable_check_numerics()
    try:
        yield
    finally:
        debug.disable_check_numerics()


def _progress(epoch, epochs, step, steps, trackers, seconds, live, logs=None) -> None:
    """The progress bar: redrawn in place while an epoch runs (live), finished with its logs."""
    width = 20
    done = width * step // max(steps, 1)
    bar = "=" * max(done - 1, 0) + (">" if done < width else "=") + "." * (width - done)
    values = logs if logs is not None else _results(trackers)
    text = " - ".join(f"{k}: {v:.4f}" for k, v in values.items())
    prefix = f"Epoch {epoch + 1}/{epochs} {step}/{steps} [{bar}] {seconds:.1f}s"
    print(("\r" if live else "") + f"{prefix} - {text}", end="" if logs is None else "\n", flush=True)


saving.BUILTINS["models"] = {"Functional": Functional, "Model": Functional, "Sequential": Sequential}

__all__ = ["History", "Model", "Sequential", "load_model", "model_from_json"]
