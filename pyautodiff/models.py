"""Model (subclass it, write call) and Sequential, with compile/fit/evaluate/predict/summary and
safetensors weights files.

A weights file maps each weight's path ("dense1.kernel", "layers.0.bias") to its tensor. The format is
an 8-byte little-endian header length, a JSON header {name: {"dtype", "shape", "data_offsets"}} and the
raw little-endian data; load_weights checks everything before it assigns anything.
"""

import itertools
import json
import operator
import os
import re
import sys
import time

from . import _backend as B
from . import debug, ops
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .data import NDArrayDataset
from .function import Function
from .dtypes import FLOATS, ITEMSIZE
from .layers.base import Layer
from .tape import GradientTape
from .tensor import Tensor, as_tensor, empty, shape_size

_ST_DTYPES = {"float32": "F32", "float64": "F64", "int32": "I32"}
_ST_NAMES = {v: k for k, v in _ST_DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024  # the limit the safetensors package itself enforces
_MAX_DEPTH = 128  # the JSON nesting serde_json (the safetensors package's parser) accepts; ours is 3 deep
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: no state per character
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_DEPTH_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


class History:
    """What fit returns: history maps "loss", "accuracy", "val_loss", ... to per-epoch lists."""

    def __init__(self):
        self.history: dict = {}
        self.epoch: list = []

    def _append(self, epoch: int, logs: dict) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)


class Model(Layer):
    cast_inputs = False  # its layers cast what they take (an Embedding wants its indices as they are)

    def __init__(self, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.optimizer = None
        self.loss = None
        self._metric_ids: list = []
        self.stop_training = False
        self.run_eagerly = False
        self._train_function = None

    def __getstate__(self) -> dict:
        """For pickle and copy.deepcopy: the traced training step holds kernel pointers; it is traced anew."""
        return {**self.__dict__, "_train_function": None}

    def call(self, inputs, training=False):
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Model implement call(inputs, training)")

    def build(self, input_shape) -> None:
        """Create every weight by running the model once on zeros of input_shape (a None batch taken as 1)."""
        self.call(ops.zeros(tuple(1 if d is None else d for d in input_shape), self.dtype), training=False)
        self.built = True

    def _build(self, input_shape) -> None:
        # a first call creates the weights by itself; only an overridden build (Sequential's, a user's) runs
        if type(self).build is not Model.build:
            self.build(input_shape)
        self.built = True

    # --- training configuration ---
    def compile(self, optimizer="adam", loss=None, metrics=None, run_eagerly: bool = False) -> None:
        """run_eagerly=False (the default) makes fit's training step an ad.Function: traced once per batch
        shape, then replayed in one C call."""
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss) if loss is not None else None
        self._metric_ids = list(metrics or [])
        self.run_eagerly = run_eagerly
        self._train_function = None

    def _require_compiled(self, what: str) -> None:
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"{self.name}.{what}: call compile(optimizer=..., loss=...) first")

    def _new_metrics(self, y_true, y_pred) -> list:
        return [metrics_module.get(m, self.loss, y_true, y_pred) for m in self._metric_ids]

    def _train_on_batch(self, x, y):
        with GradientTape() as tape:
            pred = self(x, training=True)
            loss = self.loss(y, pred)
        params = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, params), params))
        return loss, pred

    def train_step(self, x, y, trackers: dict) -> None:
        if self.run_eagerly:
            loss, pred = self._train_on_batch(x, y)
        else:
            if self._train_function is None:
                self._train_function = Function(self._train_on_batch)
            loss, pred = self._train_function(x, y)
        self._track(trackers, loss, x, y, pred)

    def test_step(self, x, y, trackers: dict) -> None:
        pred = self(x, training=False)
        self._track(trackers, self.loss(y, pred), x, y, pred)

    def _track(self, trackers: dict, loss, x, y, pred) -> None:
        if "loss" not in trackers:
            trackers["loss"] = metrics_module.Mean("loss")
            for m in self._new_metrics(y, pred):
                trackers[m.name] = m
        for name, m in trackers.items():
            if name == "loss":
                m.update_state(ops.scale(float(x.shape[0]), loss), x.shape[0])
            else:
                m.update_state(y, pred)

    # --- the loops ---
    def fit(self, x=None, y=None, epochs: int = 1, batch_size: int = 32, validation_data=None,
            shuffle: bool = True, verbose: int = 1, callbacks=None, seed: int | None = None,
            check_numerics: bool = False) -> History:
        """check_numerics=True checks every op's output while fit runs (ad.debug.enable_check_numerics): the
        first NaN or inf raises ad.debug.NumericsError naming the op, before the update it would corrupt."""
        if check_numerics and not debug.is_check_numerics_enabled():
            debug.enable_check_numerics()
            try:
                return self.fit(x, y, epochs, batch_size, validation_data, shuffle, verbose, callbacks, seed)
            finally:
                debug.disable_check_numerics()
        self._require_compiled("fit")
        dataset = self._dataset("fit", x, y, batch_size, shuffle, seed)
        history, callbacks = History(), list(callbacks or [])
        self.stop_training = False
        live = sys.stdout.isatty()  # a redrawn bar only on a terminal; one line per epoch elsewhere
        _notify(callbacks, "on_train_begin")
        for epoch in range(epochs):
            trackers: dict = {}
            start = time.perf_counter()
            for step, (xb, yb) in enumerate(dataset):
                self.train_step(xb, yb, trackers)
                if verbose == 1 and live:
                    _progress(epoch, epochs, step + 1, len(dataset), trackers, time.perf_counter() - start, live)
                _notify(callbacks, "on_batch_end", step, {k: m.result() for k, m in trackers.items()})
            logs = {k: m.result() for k, m in trackers.items()}
            if validation_data is not None:
                vx, vy = validation_data
                logs.update({f"val_{k}": v for k, v in self.evaluate(vx, vy, batch_size).items()})
            history._append(epoch, logs)
            if verbose:
                _progress(epoch, epochs, len(dataset), len(dataset), trackers, time.perf_counter() - start, live,
                          logs)
            _notify(callbacks, "on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        _notify(callbacks, "on_train_end")
        return history

    def evaluate(self, x=None, y=None, batch_size: int = 32, verbose: int = 0) -> dict:
        self._require_compiled("evaluate")
        trackers: dict = {}
        for xb, yb in self._dataset("evaluate", x, y, batch_size, False, 0):
            self.test_step(xb, yb, trackers)
        logs = {k: m.result() for k, m in trackers.items()}
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        return logs

    def predict(self, x, batch_size: int = 32) -> Tensor:
        dataset = self._dataset("predict", x, None, batch_size, False, 0)
        if not dataset.samples:  # an empty batch in, an empty batch out (of the output's shape)
            return self(dataset.inputs, training=False)
        outputs = [self(xb, training=False) for xb, _ in dataset]
        return ops.concat(outputs, 0) if len(outputs) > 1 else outputs[0]

    def _dataset(self, what: str, x, y, batch_size, shuffle, seed) -> NDArrayDataset:
        if isinstance(x, NDArrayDataset):
            dataset = x
        elif x is None or (what != "predict" and y is None):
            raise ValueError(f"{self.name}.{what}: expects inputs x" + (" and targets y" if what != "predict" else ""))
        else:
            try:
                dataset = NDArrayDataset(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed)
            except ValueError as e:
                raise ValueError(f"{self.name}.{what}: {e}") from None
        if not dataset.samples and what != "predict":
            raise ValueError(f"{self.name}.{what}: no data: the inputs of shape {dataset.inputs.shape} hold 0 samples")
        return dataset

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
        named = self._named_weights("save_weights")
        if sys.byteorder != "little":
            raise RuntimeError("save_weights: safetensors data is little-endian; this machine is not")
        header, offset = {"__metadata__": {"format": "pyautodiff"}}, 0
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

    def load_weights(self, path) -> None:
        named = self._named_weights("load_weights")
        values = _read_safetensors(path, dict(named))
        for name, var in named:  # only once the whole file was checked
            var.assign(values[name])


def _read_safetensors(path, expected: dict) -> dict:
    """{name: Tensor} from a safetensors file, checked against {name: Variable}; ValueError naming the file.

    The file is untrusted: the header is read only up to the file's size (and _MAX_HEADER), every entry is
    checked against the model before any data is read, and the data, which must tile the rest of the file
    exactly (the format's rule), is read straight into tensors of the model's sizes."""
    def bad(why):
        return ValueError(f"load_weights: {os.fspath(path)!r} is not a valid weights file for this model: {why}")

    try:
        with open(path, "rb") as f:
            return _read_checked(f, os.fstat(f.fileno()).st_size, expected, bad)
    except OSError as e:
        raise OSError(f"load_weights: cannot read {os.fspath(path)!r}: {e.strerror or e}") from None


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


def _read_checked(f, file_size: int, expected: dict, bad) -> dict:
    if file_size < 8:
        raise bad(f"{file_size} bytes is too short for a safetensors header")
    size = int.from_bytes(f.read(8), "little")
    if size > file_size - 8:
        raise bad(f"header length {size} exceeds the file ({file_size} bytes)")
    if size > _MAX_HEADER:
        raise bad(f"header length {size} exceeds the limit of {_MAX_HEADER} bytes")
    text = f.read(size)
    if _nesting(text) > _MAX_DEPTH:  # json.loads recurses per level: 10,000 overflow Pyodide's stack for good
        raise bad(f"the header nests deeper than {_MAX_DEPTH} levels")
    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise bad(f"the header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise bad("the header is not a JSON object")
    header.pop("__metadata__", None)
    data_size = file_size - 8 - size
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
            raise bad(f"weight {name!r} has unsupported dtype {dtype!r} (F32, F64 or I32)")
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise bad(f"weight {name!r} has an invalid shape {shape!r}")
        if tuple(shape) != var.shape:
            raise bad(f"weight {name!r} has shape {tuple(shape)}, the model's has shape {var.shape}")
        if (_ST_NAMES[dtype] in FLOATS) != (var.dtype in FLOATS):
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
        entry = header[name]
        begin, end = entry["data_offsets"]
        t = empty(var.shape, _ST_NAMES[entry["dtype"]])
        if end > begin:
            f.seek(8 + size + begin)
            if f.readinto(B.view(t._ptr, end - begin)) != end - begin:
                raise bad(f"weight {name!r}: the file ended early (it changed while being read?)")
        values[name] = ops.cast(t, var.dtype)
    return values


class Sequential(Model):
    """Layers applied in order; built at once when the first layer has an input_shape."""

    def __init__(self, layers=None, name: str | None = None):
        super().__init__(name=name)
        self._stack: list = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise TypeError(f"{self.name}.add: expects a Layer, got {type(layer).__name__}")
        self._stack.append(layer)
        first = self._stack[0]
        if first.input_shape is not None:
            self._build((None,) + first.input_shape)

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

    def call(self, inputs, training=False):
        if not self._stack:
            raise ValueError(f"{self.name}: a Sequential model needs at least one layer")
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training)
        return x


def _notify(callbacks: list, event: str, *args) -> None:
    for cb in callbacks:
        method = getattr(cb, event, None)
        if method is not None:
            method(*args)


def _progress(epoch, epochs, step, steps, trackers, seconds, live, logs=None) -> None:
    """The progress bar: redrawn in place while an epoch runs (live), finished with its logs."""
    width = 20
    done = width * step // max(steps, 1)
    bar = "=" * max(done - 1, 0) + (">" if done < width else "=") + "." * (width - done)
    values = logs if logs is not None else {k: m.result() for k, m in trackers.items()}
    text = " - ".join(f"{k}: {v:.4f}" for k, v in values.items())
    prefix = f"Epoch {epoch + 1}/{epochs} {step}/{steps} [{bar}] {seconds:.1f}s"
    print(("\r" if live else "") + f"{prefix} - {text}", end="" if logs is None else "\n", flush=True)


__all__ = ["History", "Model", "Sequential"]
