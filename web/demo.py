"""The page's Python side, run by worker.js inside Pyodide: datasets, the model, training in chunks of epochs.

The worker asks for a chunk, posts its losses to the page, and checks for Stop between chunks, so the
training loop itself is the seed's (tape, gradient, optimizer.update) with no JavaScript in it.
The Python panel's code sees the same model and data as `page.model` and `page.data`.
"""

import builtins
import contextlib
import io
import linecache
import math
import os
import random
import signal
import sys
import time
import traceback
import types

import pyautodiff as ad

SEED_POINTS = [[1, 3], [1, 4], [2, 4], [3, 1], [4, 1], [4, 2]]
SEED_LABELS = [0, 0, 0, 1, 1, 1]
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}
SAMPLES = 200  # points per generated dataset, as TensorFlow Playground has them
NEURON_GRID = 20  # the per-neuron maps: NEURON_GRID x NEURON_GRID points ...
NEURON_LAYERS, NEURON_UNITS = 2, 8  # ... for the first units of the first hidden layers
WEIGHTS_FILE = "/tmp/page-weights.safetensors"


# --- datasets: TensorFlow Playground's five on [-6, 6]^2 (class 1 is the "positive" one), and the seed's six ---

def _circle(rng, noise):
    def point(r_lo, r_hi, label):
        r, angle = rng.uniform(r_lo, r_hi), rng.uniform(0, 2 * math.pi)
        x, y = r * math.sin(angle), r * math.cos(angle)
        return [x + rng.uniform(-5, 5) * noise, y + rng.uniform(-5, 5) * noise], label
    half = SAMPLES // 2
    return [point(0, 2.5, 1) for _ in range(half)] + [point(3.5, 5, 0) for _ in range(half)]


def _xor(rng, noise):
    def coordinate():
        v = rng.uniform(-5, 5)
        return v + 0.3 if v > 0 else v - 0.3  # a margin around the axes
    points = []
    for _ in range(SAMPLES):
        x, y = coordinate(), coordinate()
        label = int(x * y >= 0)
        points.append(([x + rng.uniform(-5, 5) * noise, y + rng.uniform(-5, 5) * noise], label))
    return points


def _gauss(rng, noise):
    spread = 0.5 + 3.5 * noise  # the variance grows with the noise, as in the Playground
    return [([rng.gauss(cx, math.sqrt(spread)), rng.gauss(cx, math.sqrt(spread))], label)
            for cx, label in [(2, 1), (-2, 0)] for _ in range(SAMPLES // 2)]


def _spiral(rng, noise):
    half, points = SAMPLES // 2, []
    for delta, label in [(0, 1), (math.pi, 0)]:
        for i in range(half):
            r = i / half * 5
            t = 1.75 * i / half * 2 * math.pi + delta
            points.append(([r * math.sin(t) + rng.uniform(-1, 1) * noise, r * math.cos(t) + rng.uniform(-1, 1) * noise],
                           label))
    return points


def _moons(rng, noise):
    half, points = SAMPLES // 2, []
    for i in range(half):
        t = math.pi * i / (half - 1)
        for (x, y), label in [((math.cos(t), math.sin(t)), 0), ((1 - math.cos(t), 0.5 - math.sin(t)), 1)]:
            points.append(([2.8 * (x - 0.5) + rng.gauss(0, noise * 2), 2.8 * (y - 0.25) + rng.gauss(0, noise * 2)],
                           label))
    return points


DATASETS = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral, "moons": _moons}
PLANES = {"seed": (0.0, 5.0)}  # every other dataset lies on (-6, 6)


def make_data(dataset: str, noise: float, test_fraction: float, seed: int):
    """(train, test) lists of ([x1, x2], label); the seed's six points are all training points, noise-free."""
    if dataset == "seed":
        return list(zip(SEED_POINTS, SEED_LABELS)), []
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(DATASETS) + ['seed']}")
    rng = random.Random(seed)
    points = DATASETS[dataset](rng, noise)
    rng.shuffle(points)
    n_test = round(len(points) * test_fraction)
    return points[n_test:], points[:n_test]


class Data:
    """The page's data as tensors `x_train`, `y_train`, `x_test`, `y_test` (the test ones None without a test set)."""

    def __init__(self, train, test, plane):
        self.train, self.test, self.plane = list(train), list(test), plane
        self._tensors()

    def _tensors(self):
        def tensors(points):
            if not points:
                return None, None
            return ad.array([p for p, _ in points], dtype="float32"), ad.array([label for _, label in points])
        self.x_train, self.y_train = tensors(self.train)
        self.x_test, self.y_test = tensors(self.test)

    def add(self, x1: float, x2: float, label: int):
        self.train.append(([float(x1), float(x2)], int(label)))
        self._tensors()

    def points(self) -> dict:
        return {"train": [[x, y, label] for (x, y), label in self.train],
                "test": [[x, y, label] for (x, y), label in self.test], "plane": list(self.plane)}


def train_step(model, lossfunc, optimizer, inputs, trues):
    """One training step (forward, gradient, update): (the loss, the predictions, the seconds it took)."""
    start = time.perf_counter()
    with ad.GradientTape() as tape:
        predicts = model(inputs, training=True)
        loss = lossfunc(trues, predicts)
    params = model.trainable_variables
    optimizer.update(params, tape.gradient(loss, params))
    return loss, predicts, time.perf_counter() - start


def median_us(seconds: list):
    """The median of step times in microseconds (None without steps): one slow step (a GC) does not move it."""
    return sorted(seconds)[len(seconds) // 2] * 1e6 if seconds else None


class Trainer:
    """One model on one dataset from the page's controls, advanced chunk by chunk."""

    def __init__(self, config: dict):
        c = dict(config)
        if c["optimizer"] not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {c['optimizer']!r}; choose one of {sorted(OPTIMIZERS)}")
        plane = PLANES.get(c["dataset"], (-6.0, 6.0))
        self.data = Data(*make_data(c["dataset"], c["noise"], c["testFraction"], c["seed"]), plane)
        layers = []
        for i, units in enumerate(c["hidden"]):
            first = {"input_shape": (2,)} if i == 0 else {}
            layers.append(ad.layers.Dense(int(units), activation=c["activation"], **first))
            if c["dropout"] > 0:
                layers.append(ad.layers.Dropout(float(c["dropout"]), seed=c["seed"] + i))
        layers.append(ad.layers.Dense(2))
        self.layers = layers
        self.model = ad.Sequential(layers)
        self.lossfunc = ad.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.batch_size = int(c["batchSize"])
        learning_rate = float(c["learningRate"])
        if c["lrDecay"] < 1:  # the rate times lrDecay every 100 epochs, smoothly (steps are batches)
            batches = math.ceil(len(self.data.train) / self.batch_size)
            learning_rate = ad.optimizers.schedules.ExponentialDecay(learning_rate, 100 * batches, c["lrDecay"])
        self.optimizer = getattr(ad.optimizers, OPTIMIZERS[c["optimizer"]])(
            learning_rate=learning_rate, weight_decay=float(c["weightDecay"]) or None)
        self.epochs = int(c["epochs"])
        self.epoch = 0
        self.seed = int(c["seed"])
        self.grid = int(c["grid"])
        self.grid_inputs = self._grid(self.grid)
        self.neuron_inputs = self._grid(NEURON_GRID)
        self.model(self.data.x_train)  # builds the weights, so the summary can count them
        self.config = c

    def _grid(self, n: int):
        """n x n points over the plane, row by row from the top (row 0 is the top of the canvas: the largest x2)."""
        lo, hi = self.data.plane
        step = (hi - lo) / (n - 1)
        return ad.array([[lo + i * step, hi - j * step] for j in range(n) for i in range(n)], dtype="float32")

    def summary(self) -> dict:
        c = self.config
        params = sum(v.size for v in self.model.trainable_variables)
        shape = " \u2192 ".join([f"Dense({u}, {c['activation']})" for u in c["hidden"]] + ["Dense(2)"])
        extras = ([f"dropout {c['dropout']:g}"] * (c["dropout"] > 0) +
                  [f"weight decay {c['weightDecay']:g}"] * (c["weightDecay"] > 0) +
                  [f"learning rate \u00d7{c['lrDecay']:g} per 100 epochs"] * (c["lrDecay"] < 1))
        text = " \u00b7 ".join([shape, f"{params} parameters", OPTIMIZERS[c["optimizer"]], *extras])
        return {"text": text, "params": params}

    def dataset(self):
        return ad.data.NDArrayDataset(self.data.x_train, tests=self.data.y_train, batch_size=self.batch_size,
                                      shuffle=True, seed=self.seed + self.epoch)

    def train(self, budget_ms: float, until: int) -> dict:
        """Train whole epochs until budget_ms has passed or epoch `until` is reached (Step can go past the target)."""
        losses, test_losses, step_times = [], [], []
        start = time.perf_counter()
        while self.epoch < until:
            total, batches = 0.0, 0
            for inputs, trues in self.dataset():
                loss, _, step_s = train_step(self.model, self.lossfunc, self.optimizer, inputs, trues)
                total += float(loss)
                batches += 1
                step_times.append(step_s)
            self.epoch += 1
            losses.append(total / batches)
            test_losses.append(self.loss(self.data.x_test, self.data.y_test))
            if not math.isfinite(losses[-1]) or (time.perf_counter() - start) * 1000.0 >= budget_ms:
                break
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        return {"epoch": self.epoch, "losses": losses, "test_losses": test_losses, "elapsed_ms": elapsed_ms,
                "step_us": median_us(step_times), **self.evaluate(), "done": self.epoch >= self.epochs,
                "diverged": bool(losses) and not math.isfinite(losses[-1])}

    def loss(self, x, y):
        return None if x is None else float(self.lossfunc(y, self.model(x)))

    def accuracy(self, x, y):
        if x is None:
            return None
        predicted = ad.argmax(self.model(x), axis=1).tolist()
        return sum(p == t for p, t in zip(predicted, y.tolist())) / len(predicted)

    def evaluate(self) -> dict:
        d = self.data
        return {"accuracy": self.accuracy(d.x_train, d.y_train), "test_accuracy": self.accuracy(d.x_test, d.y_test)}

    def probabilities(self) -> list:
        """P(class 1) on the grid, row by row from the top."""
        return ad.softmax(self.model(self.grid_inputs), axis=-1)[:, 1].tolist()

    def neurons(self) -> list:
        """Per hidden layer (the first NEURON_LAYERS), per unit (the first NEURON_UNITS): its output on the grid."""
        x, maps = self.neuron_inputs, []
        for layer in self.layers[:-1]:
            x = layer(x)
            if isinstance(layer, ad.layers.Dense):
                maps.append(ad.transpose(x)[:NEURON_UNITS].tolist())
                if len(maps) == NEURON_LAYERS:
                    break
        return maps

    def add_point(self, x1: float, x2: float, label: int) -> dict:
        self.data.add(x1, x2, label)
        return self.data.points()

    def save_weights(self) -> str:
        self.model.save_weights(WEIGHTS_FILE)
        return WEIGHTS_FILE

    def load_weights(self) -> None:
        try:
            self.model.load_weights(WEIGHTS_FILE)
        finally:
            os.remove(WEIGHTS_FILE)


# --- the digits tab: a small CNN on the bundled 8x8 digits, and the drawing pad's classifier ---

DIGITS_EPOCHS = 8
DIGITS_BATCH = 32
DIGITS_LEVELS = 16  # the digits' pixels count the on cells of a 4x4 block: 0..16


class DigitsTrainer:
    """A small CNN on ad.datasets.digits() (a seeded quarter held out for testing), trained batch by batch."""

    def __init__(self, seed: int = 0):
        x, y = ad.datasets.digits()  # x (1797, 8, 8, 1) float32 in [0, 1], y (1797,) int32
        order = list(range(y.shape[0]))
        random.Random(seed).shuffle(order)
        n_test = len(order) // 4
        test, train = ad.array(order[:n_test]), ad.array(order[n_test:])
        self.x_train, self.y_train = ad.gather(x, train), ad.gather(y, train)
        self.x_test, self.y_test = ad.gather(x, test), ad.gather(y, test)
        glorot = lambda k: ad.initializers.GlorotUniform(seed=seed + k)  # noqa: E731
        self.model = ad.Sequential([
            ad.layers.Conv2D(8, 3, padding="same", activation="relu", kernel_initializer=glorot(1),
                             input_shape=(8, 8, 1)),
            ad.layers.MaxPooling2D(2),  # 4x4
            ad.layers.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer=glorot(2)),
            ad.layers.MaxPooling2D(2),  # 2x2
            ad.layers.Flatten(),
            ad.layers.Dense(10, kernel_initializer=glorot(3)),
        ])
        self.lossfunc = ad.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.optimizer = ad.optimizers.Adam(learning_rate=0.01)
        self.seed, self.epoch, self.epochs = seed, 0, DIGITS_EPOCHS
        self.batches = None  # the current epoch's batches, consumed across chunks
        self.correct = self.seen = 0  # this epoch's running training accuracy
        self.test_accuracy = self.accuracy(self.x_test, self.y_test)

    def summary(self) -> dict:
        params = sum(v.size for v in self.model.trainable_variables)
        text = (f"Conv2D(8, 3\u00d73, relu) \u2192 MaxPool(2) \u2192 Conv2D(16, 3\u00d73, relu) \u2192 MaxPool(2) "
                f"\u2192 Dense(10) \u00b7 {params} parameters \u00b7 Adam \u00b7 {self.y_train.shape[0]} training and "
                f"{self.y_test.shape[0]} test digits \u00b7 {self.epochs} epochs")
        return {"text": text, "params": params, "epochs": self.epochs}

    def accuracy(self, x, y) -> float:
        predicted = ad.argmax(self.model(x), axis=1).tolist()
        return sum(p == t for p, t in zip(predicted, y.tolist())) / len(predicted)

    def train(self, budget_ms: float) -> dict:
        """Train batches until budget_ms has passed (an epoch spans chunks); test accuracy at each epoch's end."""
        step_times = []
        start = time.perf_counter()
        while self.epoch < self.epochs and (time.perf_counter() - start) * 1000.0 < budget_ms:
            if self.batches is None:
                self.batches = iter(ad.data.NDArrayDataset(self.x_train, tests=self.y_train, batch_size=DIGITS_BATCH,
                                                           shuffle=True, seed=self.seed + self.epoch))
                self.correct = self.seen = 0
            batch = next(self.batches, None)
            if batch is None:
                self.epoch += 1
                self.batches = None
                self.test_accuracy = self.accuracy(self.x_test, self.y_test)
                continue
            inputs, trues = batch
            _, predicts, step_s = train_step(self.model, self.lossfunc, self.optimizer, inputs, trues)
            step_times.append(step_s)
            predicted = ad.argmax(predicts, axis=1).tolist()
            self.correct += sum(p == t for p, t in zip(predicted, trues.tolist()))
            self.seen += len(predicted)
        return {"epoch": self.epoch, "fraction": self.seen / self.y_train.shape[0] if self.batches else 0.0,
                "accuracy": self.correct / self.seen if self.seen else None, "test_accuracy": self.test_accuracy,
                "step_us": median_us(step_times), "done": self.epoch >= self.epochs}

    def predict(self, pixels: list) -> list:
        """P(digit) for an 8x8 image given as 64 counts 0..16, row by row (the digits data's own scale)."""
        if len(pixels) != 64:
            raise ValueError(f"digits: an 8x8 image has 64 pixels, got {len(pixels)}")
        x = ad.array([[[[v / DIGITS_LEVELS] for v in pixels[r * 8:r * 8 + 8]] for r in range(8)]], dtype="float32")
        return ad.softmax(self.model(x), axis=-1)[0].tolist()

    def sample(self, index: int) -> dict:
        """Test digit number `index` (wrapping): its 64 pixels as counts 0..16 and its label."""
        i = index % self.y_test.shape[0]
        pixels = [round(v * DIGITS_LEVELS) for v in ad.reshape(self.x_test[i], (64,)).tolist()]
        return {"pixels": pixels, "label": self.y_test.tolist()[i], "index": i}


# --- the Python panel ---

NO_INPUT = "input() is not available in this page: there is no console to type into; set the value in the code"
MISSING_MODULE_HINT = ("\nhint: this page has Python's standard library and pyautodiff only (numpy is not bundled: "
                       "use ad.array(...) and .tolist() instead)")


class _Stream(io.TextIOBase):
    """stdout/stderr for the panel, streamed live. A finished line goes out at once unless 20 batches already went in
    the last 50 ms (then it waits for the next write after the window): a line printed just before the code goes
    quiet (a loop that catches KeyboardInterrupt and spins on) is shown, and 10**5 prints are a few hundred messages.
    """

    BURST, WINDOW = 20, 0.05

    def __init__(self, send):
        self.send, self.parts, self.window, self.sent = send, [], time.perf_counter(), 0

    def writable(self):
        return True

    def write(self, text):
        self.parts.append(text)
        now = time.perf_counter()
        if now - self.window > self.WINDOW:  # a new window: whatever waited goes out
            self.window, self.sent = now, 0
            self.flush()
        elif "\n" in text and self.sent < self.BURST:
            self.flush()
        return len(text)

    def flush(self):
        if self.parts:
            text, self.parts = "".join(self.parts), []
            self.send(text)
            self.sent += 1


_sigint = signal.default_int_handler


def count_interrupts_in(received) -> None:
    """SIGINT from now on calls `received()` (the page counts it: Pyodide can lose a write to its interrupt buffer, so
    the page writes again until one is received) and then raises KeyboardInterrupt, as Python's default handler does."""
    global _sigint

    def handler(signum, frame):
        received()
        raise KeyboardInterrupt
    _sigint = handler
    signal.signal(signal.SIGINT, handler)


_sleep = time.sleep
SLEEP_SLICE_S = 0.01


def _interruptible_sleep(seconds) -> None:
    """time.sleep for the panel's code, in slices of 10 ms: Pyodide's own sleep never looks at the interrupt buffer, so
    Stop Python during time.sleep(30) had to restart Python; between slices the interpreter runs and sees the Stop."""
    if isinstance(seconds, (str, bytes, bytearray)):  # (float() would take these; time.sleep takes real numbers)
        raise TypeError(f"'{type(seconds).__name__}' object cannot be interpreted as an integer or float")
    seconds = float(seconds)
    if math.isnan(seconds):
        raise ValueError("Invalid value NaN (not a number)")
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        _sleep(min(left, SLEEP_SLICE_S))


def run_code(source: str, filename: str, send, trainer) -> dict:
    """Run the panel's code in a fresh namespace, output streamed to `send`; `page` is the page's model and data."""
    signal.signal(signal.SIGINT, _sigint)  # the last run's code may have replaced it
    time.sleep = _interruptible_sleep  # (each run, as the handler: the last run's code may have replaced it)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # tracebacks show the lines
    page = types.SimpleNamespace(model=trainer and trainer.model, data=trainer and trainer.data, trainer=trainer)

    def no_input(prompt=""):
        raise RuntimeError(NO_INPUT) from None
    namespace = {"__name__": "__main__", "__builtins__": {**vars(builtins), "input": no_input}, "page": page}
    stream = _Stream(send)
    ok = True
    start = time.perf_counter()
    with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
        try:
            exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - running it is the point
        except BaseException as e:  # noqa: BLE001 - the visitor's code: show whatever it raised, SystemExit too
            ok = False
            traceback.print_exception(type(e), e, e.__traceback__.tb_next)
            if isinstance(e, ModuleNotFoundError):
                print(MISSING_MODULE_HINT, file=sys.stderr)
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    stream.flush()
    return {"ok": ok, "elapsed_ms": elapsed_ms}
