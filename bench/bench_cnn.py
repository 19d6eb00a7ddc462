"""LeNet-style CNN training step (issue 15): 28x28x1 -> Conv2D(32, 3, relu) -> MaxPool 2 -> Conv2D(64, 3, relu)
-> MaxPool 2 -> Flatten -> Dense(10), batch 64, softmax cross-entropy from logits, Adam: pyautodiff eager and as
an ad.Function vs PyTorch eager, 1 and 2 threads. Same weights and batch in both, losses checked before timing."""

from __future__ import annotations

import common

CASE = "LeNet-style CNN 28x28x1, batch 64"
BATCH, SIDE, CLASSES = 64, 28, 10
CONVS = [(1, 32), (32, 64)]  # (in, out) channels of the 3x3 valid convolutions, each followed by a 2x2 max pool
POOLED = (((SIDE - 2) // 2) - 2) // 2  # the side of the last pool's output: 5


def init_params(seed: int = 0) -> list:
    """Glorot-uniform kernels in Keras' layout ((3, 3, in, out) and (in, out)), small non-zero biases, float32."""
    import numpy as np
    rng = np.random.default_rng(seed)
    shapes = [(3, 3, c_in, c_out) for c_in, c_out in CONVS] + [(POOLED * POOLED * CONVS[-1][1], CLASSES)]
    params = []
    for shape in shapes:
        receptive = int(np.prod(shape[:-2]))
        limit = np.sqrt(6.0 / (receptive * (shape[-2] + shape[-1])))
        params.append((rng.uniform(-limit, limit, shape).astype(np.float32),
                       rng.uniform(-0.1, 0.1, shape[-1]).astype(np.float32)))
    return params


def pyautodiff_steps(params, x, y, lr) -> list:
    """The eager step with ad.layers, a tape and ad.optimizers.Adam; the same step as an ad.Function."""
    import pyautodiff as ad
    import steps

    def build():
        layers = [ad.layers.Conv2D(CONVS[0][1], 3, activation="relu"), ad.layers.MaxPooling2D(2),
                  ad.layers.Conv2D(CONVS[1][1], 3, activation="relu"), ad.layers.MaxPooling2D(2),
                  ad.layers.Flatten(), ad.layers.Dense(CLASSES)]
        h = ad.zeros((1, SIDE, SIDE, 1))
        for layer in layers:  # a first call builds the weights, which then take the shared values
            h = layer(h)
        for layer, (w, b) in zip([layers[0], layers[2], layers[5]], params):
            layer.set_weights([ad.array(w), ad.array(b)])
        return steps.layers_step(ad, layers, [v for layer in layers for v in layer.trainable_variables], lr)

    variant = "ad.layers Conv2D/MaxPooling2D/Flatten/Dense, SparseCategoricalCrossentropy, optimizers.Adam"
    return steps.eager_and_function(ad, build, x, y, variant)


def torch_step(params, x, y, lr):
    import steps
    try:
        import torch
    except ImportError as e:
        raise steps.Unavailable("pytorch: not installed (pip install -r bench/requirements.txt)") from e
    (k1, b1), (k2, b2), (w, b) = params
    conv1, conv2 = torch.nn.Conv2d(*CONVS[0], 3), torch.nn.Conv2d(*CONVS[1], 3)
    dense = torch.nn.Linear(*w.shape)
    with torch.no_grad():  # Keras' (kh, kw, in, out) is PyTorch's (out, in, kh, kw); Flatten reads NHWC vs NCHW
        for module, k, bias in ((conv1, k1, b1), (conv2, k2, b2)):
            module.weight.copy_(torch.from_numpy(k.transpose(3, 2, 0, 1).copy()))
            module.bias.copy_(torch.from_numpy(bias))
        nchw = w.reshape(POOLED, POOLED, CONVS[-1][1], CLASSES).transpose(2, 0, 1, 3).reshape(-1, CLASSES)
        dense.weight.copy_(torch.from_numpy(nchw.T.copy()))
        dense.bias.copy_(torch.from_numpy(b))
    model = torch.nn.Sequential(conv1, torch.nn.ReLU(), torch.nn.MaxPool2d(2), conv2, torch.nn.ReLU(),
                                torch.nn.MaxPool2d(2), torch.nn.Flatten(), dense)
    return steps.torch_train(torch, model, torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), y, lr,
                             "NCHW nn.Conv2d, nn.MaxPool2d, nn.Linear")


def measure_child(args) -> None:
    import numpy as np
    import steps
    notes = common.limit_threads(args.thread_counts[0])
    rng = np.random.default_rng(1)
    x = rng.uniform(0.0, 1.0, (BATCH, SIDE, SIDE, 1)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH).astype(np.int32)
    steps.build_and_measure([pyautodiff_steps, lambda *a: [torch_step(*a)]], init_params(), x, y, 0.001, CASE,
                            args, notes)


def goals(rows: list) -> list:
    return [common.goal(f"CNN Adam step{' as a Function' if 'Function' in impl else ''}, 1 thread",
                        "at least as fast as PyTorch eager (moonshot 1.5x)",
                        common.ratios_of(rows, impl, "pytorch", threads=1), 1.0)
            for impl in ("pyautodiff eager", "pyautodiff Function")]


def main() -> None:
    common.step_bench_main(__file__, __doc__, "cnn", "LeNet-style CNN training step (µs per step)", measure_child, goals)

if __name__ == "__main__":
    main()
