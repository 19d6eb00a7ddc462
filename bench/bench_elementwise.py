"""Elementwise maps (sigmoid, tanh, exp, log, gelu, relu, add, multiply), reductions, softmax and the normalization
layers at a layer's size (128x512 float32; softmax and the sparse cross-entropy over 256x1000 logits) and at 1M
floats: pyautodiff vs PyTorch eager vs numpy, 1 thread, in µs per call."""

from __future__ import annotations

import common


def measure_child(args) -> None:
    import numpy as np

    import pyautodiff as ad
    threads, notes, torch = common.call_child(args)
    rng = np.random.default_rng(0)
    big = "16K" if args.quick else "1M"
    data = {"x": rng.standard_normal((128, 512), dtype=np.float32),
            "y": rng.standard_normal((128, 512), dtype=np.float32),
            "pos": rng.uniform(0.01, 10, (128, 512)).astype(np.float32),
            "logits": rng.standard_normal((256, 1000), dtype=np.float32),
            "big": rng.standard_normal(1 << (14 if args.quick else 20), dtype=np.float32)}
    data["labels"] = rng.integers(0, 1000, 256).astype(np.int32)
    data["column"] = rng.standard_normal((128, 1), dtype=np.float32)
    data["dy"] = rng.standard_normal((128, 512), dtype=np.float32)
    sigmoid = {"pyautodiff": ad.sigmoid, "pytorch": "sigmoid", "numpy": lambda x: 1 / (1 + np.exp(-x))}

    def np_softmax(z, log=False):
        e = z - z.max(1, keepdims=True)
        return e - np.log(np.exp(e).sum(1, keepdims=True)) if log else np.exp(e) / np.exp(e).sum(1, keepdims=True)
    # case: (operands, {impl: function of the operands}); numpy spelled as its users write these
    cases = {
        "sigmoid 128x512": (("x",), sigmoid),
        "tanh 128x512": (("x",), {"pyautodiff": ad.tanh, "pytorch": "tanh", "numpy": np.tanh}),
        "exp 128x512": (("x",), {"pyautodiff": ad.exp, "pytorch": "exp", "numpy": np.exp}),
        "log 128x512": (("pos",), {"pyautodiff": ad.log, "pytorch": "log", "numpy": np.log}),
        "relu 128x512": (("x",), {"pyautodiff": ad.relu, "pytorch": "relu", "numpy": lambda x: np.maximum(x, 0)}),
        "add 128x512": (("x", "y"), {"pyautodiff": ad.add, "pytorch": "add", "numpy": np.add}),
        "multiply 128x512": (("x", "y"), {"pyautodiff": ad.multiply, "pytorch": "mul", "numpy": np.multiply}),
        "sum 128x512": (("x",), {"pyautodiff": ad.reduce_sum, "pytorch": "sum", "numpy": np.sum}),
        "sum rows 128x512": (("x",), {"pyautodiff": lambda x: ad.reduce_sum(x, 1), "pytorch": lambda x: x.sum(1),
                                      "numpy": lambda x: x.sum(1)}),
        "max rows 128x512": (("x",), {"pyautodiff": lambda x: ad.reduce_max(x, 1), "pytorch": lambda x: x.amax(1),
                                      "numpy": lambda x: x.max(1)}),
        "softmax 256x1000": (("logits",), {"pyautodiff": ad.softmax, "pytorch": lambda z: z.softmax(1),
                                           "numpy": np_softmax}),
        "log_softmax 256x1000": (("logits",), {"pyautodiff": ad.log_softmax, "pytorch": lambda z: z.log_softmax(1),
                                               "numpy": lambda z: np_softmax(z, True)}),
        "gelu 128x512": (("x",), {"pyautodiff": ad.gelu, "pytorch": lambda x: torch.nn.functional.gelu(x)}),
        "sparse cross-entropy 256x1000": (("labels", "logits"), {
            "pyautodiff": ad.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None),
            "pytorch": lambda y, z: torch.nn.functional.cross_entropy(z, y.long(), reduction="none"),
            "numpy": lambda y, z: np_softmax(z, True)[np.arange(len(y)), y] * -1}),
        "multiply by a column 128x512": (("x", "column"), {"pyautodiff": ad.multiply, "pytorch": "mul",
                                                           "numpy": np.multiply}),
        # the normalization layers (default gamma 1, beta 0, epsilon 1e-3) while training, and layer normalization's
        # gradient for the input (dy given) with its forward
        "layer normalization 128x512": (("x",), {"pyautodiff": _layer(ad.layers.LayerNormalization()),
                                                 "pytorch": lambda x: torch.nn.functional.layer_norm(x, (512,),
                                                                                                     eps=1e-3),
                                                 "numpy": lambda x: _np_norm(x, 1)}),
        "batch normalization 128x512": (("x",), {"pyautodiff": _layer(ad.layers.BatchNormalization()),
                                                 "pytorch": _torch_batch_norm(torch),
                                                 "numpy": lambda x: _np_norm(x, 0)}),
        "layer normalization fwd+bwd 128x512": (("x", "dy"), {"pyautodiff": _ad_layer_norm_grad(ad),
                                                              "pytorch": _torch_layer_norm_grad(torch),
                                                              "numpy": _np_layer_norm_grad}),
        f"sigmoid {big}": (("big",), sigmoid),
        f"sum {big}": (("big",), {"pyautodiff": ad.reduce_sum, "pytorch": "sum", "numpy": np.sum}),
    }
    convert = {"pyautodiff": ad.array, "numpy": lambda a: a, "pytorch": torch.from_numpy if torch else None}
    fns = {case: {impl: (lambda fn=getattr(torch, fn) if isinstance(fn, str) else fn,
                         operands=[convert[impl](data[n]) for n in names]: fn(*operands))
                  for impl, fn in impls.items() if convert[impl] is not None}
           for case, (names, impls) in cases.items()}
    rows = common.time_calls(fns, threads, args.mode, notes, rtol=1e-4)
    common.write_child(args.child, rows, notes)


def _layer(layer):
    return lambda x: layer(x, training=True)


def _np_norm(x, axis):
    return (x - x.mean(axis, keepdims=True)) / (x.var(axis, keepdims=True) + 1e-3) ** 0.5


def _np_layer_norm_grad(x, dy):
    xhat = _np_norm(x, 1)
    return (dy - dy.mean(1, keepdims=True) - xhat * (dy * xhat).mean(1, keepdims=True)) / \
        (x.var(1, keepdims=True) + 1e-3) ** 0.5


def _ad_layer_norm_grad(ad):
    layer = ad.layers.LayerNormalization()

    def step(x, dy):
        with ad.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
        return tape.gradient(y, x, output_gradients=dy)
    return step


def _torch_layer_norm_grad(torch):
    if torch is None:
        return None

    def step(x, dy):
        x = x.detach().requires_grad_(True)
        return torch.autograd.grad(torch.nn.functional.layer_norm(x, (512,), eps=1e-3), x, dy)[0]
    return step


def _torch_batch_norm(torch):
    if torch is None:
        return None
    mean, var = torch.zeros(512), torch.ones(512)  # (moving statistics updated, as the layer's)
    return lambda x: torch.nn.functional.batch_norm(x, mean, var, training=True, momentum=0.01, eps=1e-3)


def main() -> None:
    common.step_bench_main(__file__, __doc__, "elementwise", "Elementwise maps, reductions, softmax (µs per call)",
                           measure_child, None, ("pytorch", "numpy"), threads_default="1")


if __name__ == "__main__":
    main()
