"""pyautodiff's side of the browser benchmark: runs inside Pyodide (on the page, or in a worker).

bench.js runs this file, then calls `setup(config_json, groups)` once and `time_calls(name, number)` per
timed round: the loop runs here in Python, as a user's training loop would, timed with time.perf_counter
(performance.now() underneath). The steps mirror bench/steps.py's model-layer step (ad.layers.Dense, the
Keras-style losses and ad.optimizers.Adam), bench/bench_cnn.py's CNN (ad.layers.Conv2D, MaxPooling2D) and
bench/bench_lstm.py's Embedding-LSTM-Dense, without numpy (Pyodide has none here): weights and data come as nested
lists from the driver, which made them with the scripts' init_params.
"""

import json
import time

import pyautodiff as ad
from pyautodiff import layers, losses, optimizers

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7
IMPLS: dict = {}


def _layers_step(stack, params, x, loss_fn, lr):
    """One training step of the layers `stack` with Adam; params (each layer's weights in Keras' order, as nested
    lists) go to the layers that have weights, in order."""
    h = x
    for layer in stack:  # the first call builds the weights, which then take the shared values
        h = layer(h)
    variables = [v for layer in stack for v in layer.trainable_variables]
    for v, value in zip(variables, [a for weights in params for a in weights]):
        v.assign(ad.array(value, "float32"))
    optimizer = optimizers.Adam(learning_rate=lr, beta_1=BETA_1, beta_2=BETA_2, epsilon=EPSILON)

    def step(x, y):
        with ad.GradientTape() as tape:
            h = x
            for layer in stack:
                h = layer(h)
            loss = loss_fn(y, h)
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    return step


def _dense(params, activation):
    """Dense layers of params' sizes, activation between them and none after the last"""
    return [layers.Dense(len(b), activation=activation if i < len(params) - 1 else None)
            for i, (_, b) in enumerate(params)]


def _cnn(params):
    """The LeNet-style stack of bench/bench_cnn.py"""
    return [layers.Conv2D(len(params[0][1]), 3, activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(len(params[1][1]), 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
            layers.Dense(len(params[2][1]))]


def _lstm(params):
    """The Embedding(1000, 64) -> LSTM(128) -> Dense(10) stack of bench/bench_lstm.py"""
    (embeddings,), (_, recurrent_kernel, _), (_, dense_bias) = params
    return [layers.Embedding(len(embeddings), len(embeddings[0])), layers.LSTM(len(recurrent_kernel)),
            layers.Dense(len(dense_bias))]


def _add_step(prefix, case, make_layers, loss_fn, x_dtype, labels_dtype):
    x = ad.array(case["x"], x_dtype)
    y = ad.array(case["y"], labels_dtype)
    eager = _layers_step(make_layers(), case["params"], x, loss_fn, case["lr"])
    IMPLS[f"{prefix} eager"] = lambda: eager(x, y)
    traced = ad.Function(_layers_step(make_layers(), case["params"], x, loss_fn, case["lr"]))
    IMPLS[f"{prefix} Function"] = lambda: traced(x, y)


def setup(config_json: str, groups: str) -> str:
    """Builds the implementations of the named groups ("matmul", "seed", "mlp", "cnn", "lstm"); returns their names."""
    config = json.loads(config_json)
    wanted = groups.split(",")
    if "matmul" in wanted:
        a = ad.array(config["matmul"]["a"], "float32")
        b = ad.array(config["matmul"]["b"], "float32")
        IMPLS["matmul"] = lambda: ad.matmul(a, b)
    sparse_ce = losses.SparseCategoricalCrossentropy(from_logits=True)
    if "seed" in wanted:
        _add_step("seed", config["seed"], lambda: _dense(config["seed"]["params"], "sigmoid"), sparse_ce, "float32", "int32")
    if "mlp" in wanted:
        _add_step("mlp", config["mlp"], lambda: _dense(config["mlp"]["params"], "relu"), losses.MeanSquaredError(),
                  "float32", "float32")
    if "cnn" in wanted:
        _add_step("cnn", config["cnn"], lambda: _cnn(config["cnn"]["params"]), sparse_ce, "float32", "int32")
    if "lstm" in wanted:
        _add_step("lstm", config["lstm"], lambda: _lstm(config["lstm"]["params"]), sparse_ce, "int32", "int32")
    return json.dumps(sorted(IMPLS))


def check(name: str, n: int) -> str:
    """Runs an implementation n times; returns what the driver checks: the losses, or the product's first row."""
    out = [IMPLS[name]() for _ in range(n)]
    if name == "matmul":
        return json.dumps(out[-1].tolist()[0])
    return json.dumps([float(v) for v in out])


def time_calls(name: str, number: int) -> float:
    """Seconds per call of `number` back-to-back calls."""
    fn = IMPLS[name]
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def info() -> str:
    import sys
    return json.dumps({**ad.backend_info(), "python": sys.version.split()[0]})
