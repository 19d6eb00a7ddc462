"""The page's Python side, run by worker.js inside Pyodide: the seed's model, trained in chunks of epochs.

The worker asks for a chunk, posts its losses to the page, and checks for Stop between chunks, so the
training loop itself is exactly the seed's (tape, gradient, optimizer.update) with no JavaScript in it.
"""

import contextlib
import io
import sys
import time
import traceback

import pyautodiff as ad

POINTS = [[1, 3], [1, 4], [2, 4], [3, 1], [4, 1], [4, 2]]
LABELS = [0, 0, 0, 1, 1, 1]
PLANE = (0.0, 5.0)  # the heat map covers PLANE x PLANE
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}


class DemoModel(ad.Model):
    def __init__(self, hidden: int, activation: str):
        super().__init__()
        self.dense1 = ad.layers.Dense(hidden, input_shape=(2,), activation=activation)
        self.dense2 = ad.layers.Dense(2)

    def call(self, inputs, training=False):
        x = self.dense1(inputs, training=training)
        return self.dense2(x, training=training)


class Trainer:
    """One training run: a fresh model from the page's controls, advanced chunk by chunk."""

    def __init__(self, hidden: int, activation: str, optimizer: str, learning_rate: float, epochs: int,
                 grid: int):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
        nn = ad.NeuralNetworks()
        self.K = nn.backend()
        self.model = DemoModel(int(hidden), activation)
        self.lossfunc = ad.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.optimizer = getattr(ad.optimizers, OPTIMIZERS[optimizer])(learning_rate=float(learning_rate))
        self.inputs = ad.array(POINTS, dtype="float32")
        self.labels = ad.array(LABELS)
        self.dataset = ad.data.NDArrayDataset(self.inputs, tests=self.labels, batch_size=64, shuffle=False)
        self.epochs = int(epochs)
        self.epoch = 0
        self.grid = int(grid)
        lo, hi = PLANE
        step = (hi - lo) / (self.grid - 1)
        # row 0 is the top of the canvas, i.e. the largest x2
        self.grid_inputs = ad.array([[lo + i * step, hi - j * step] for j in range(self.grid) for i in range(self.grid)],
                                    dtype="float32")
        self.model(self.inputs)  # builds the weights, so the summary can count them
        self.hidden, self.activation, self.optimizer_name = int(hidden), activation, OPTIMIZERS[optimizer]

    def summary(self) -> dict:
        params = sum(v.size for v in self.model.trainable_variables)
        text = (f"Dense({self.hidden}, {self.activation}) \u2192 Dense(2) \u00b7 {params} parameters \u00b7 "
                f"{self.optimizer_name}")
        return {"text": text, "params": params}

    def train(self, budget_ms: float) -> dict:
        """Train whole epochs until budget_ms has passed or the run is complete."""
        losses = []
        start = time.perf_counter()
        while self.epoch < self.epochs:
            total_loss = 0.0
            for inputs, trues in self.dataset:
                with ad.GradientTape() as tape:
                    predicts = self.model(inputs, training=True)
                    loss = self.lossfunc(trues, predicts)
                params = self.model.trainable_variables
                gradients = tape.gradient(loss, params)
                self.optimizer.update(params, gradients)
                total_loss += self.K.scalar(loss)
            losses.append(total_loss)
            self.epoch += 1
            if (time.perf_counter() - start) * 1000.0 >= budget_ms:
                break
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        return {"epoch": self.epoch, "losses": losses, "elapsed_ms": elapsed_ms,
                "accuracy": self.accuracy(), "done": self.epoch >= self.epochs}

    def accuracy(self) -> float:
        predicted = ad.argmax(self.model(self.inputs), axis=1).tolist()
        return sum(p == t for p, t in zip(predicted, LABELS)) / len(LABELS)

    def probabilities(self) -> list:
        """P(class 1) on the grid, row by row from the top."""
        return ad.softmax(self.model(self.grid_inputs), axis=-1)[:, 1].tolist()


def run_code(source: str) -> dict:
    """Run an example from the Python panel in a fresh namespace; its output and traceback are returned."""
    out = io.StringIO()
    namespace = {"__name__": "__main__"}
    ok = True
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            exec(compile(source, "example.py", "exec"), namespace)  # noqa: S102 - running it is the point
        except BaseException:  # noqa: BLE001 - the visitor's code: show whatever it raised, SystemExit too
            ok = False
            kind, value, tb = sys.exc_info()
            traceback.print_exception(kind, value, tb.tb_next)
    return {"output": out.getvalue(), "ok": ok, "elapsed_ms": (time.perf_counter() - start) * 1000.0}
