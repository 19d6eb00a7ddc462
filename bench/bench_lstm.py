"""LSTM training step (issue 16): Embedding(1000, 64) -> LSTM(128) -> Dense(10), batch 32, sequence 50, softmax
cross-entropy from logits, Adam: pyautodiff eager and as an ad.Function vs PyTorch eager (nn.LSTM, its fused
kernel), 1 and 2 threads. Same weights and batch in both, losses checked before timing."""

from __future__ import annotations

import common

CASE = "Embedding-LSTM(128)-Dense, batch 32, sequence 50"
VOCAB, EMBED, UNITS, CLASSES, BATCH, STEPS = 1000, 64, 128, 10, 32, 50


def init_params(seed: int = 0) -> dict:
    """Keras' layouts: embeddings (vocab, embed); LSTM kernel (embed, 4 units) and recurrent kernel (units, 4 units)
    with the gates in the order i, f, c, o (PyTorch's i, f, g, o: the same), bias (4 units); Dense (units, classes)."""
    import numpy as np
    rng = np.random.default_rng(seed)

    def uniform(shape, limit):
        return rng.uniform(-limit, limit, shape).astype(np.float32)
    return {"embeddings": uniform((VOCAB, EMBED), 0.05),
            "kernel": uniform((EMBED, 4 * UNITS), (6.0 / (EMBED + 4 * UNITS)) ** 0.5),
            "recurrent_kernel": uniform((UNITS, 4 * UNITS), (1.0 / UNITS) ** 0.5),
            "bias": uniform((4 * UNITS,), 0.1),
            "dense_kernel": uniform((UNITS, CLASSES), (6.0 / (UNITS + CLASSES)) ** 0.5),
            "dense_bias": uniform((CLASSES,), 0.1)}


def pyautodiff_steps(p, x, y, lr) -> list:
    """The eager step with ad.layers, a tape and ad.optimizers.Adam; the same step as an ad.Function."""
    import pyautodiff as ad
    import steps

    def build():
        layers = [ad.layers.Embedding(VOCAB, EMBED), ad.layers.LSTM(UNITS), ad.layers.Dense(CLASSES)]
        h = ad.zeros((1, STEPS), dtype="int32")
        for layer in layers:  # a first call builds the weights, which then take the shared values
            h = layer(h)
        for layer, names in zip(layers, (["embeddings"], ["kernel", "recurrent_kernel", "bias"],
                                         ["dense_kernel", "dense_bias"])):
            layer.set_weights([ad.array(p[n]) for n in names])
        return steps.layers_step(ad, layers, [v for layer in layers for v in layer.trainable_variables], lr)

    variant = "ad.layers Embedding/LSTM/Dense, SparseCategoricalCrossentropy, optimizers.Adam"
    return steps.eager_and_function(ad, build, x, y, variant)


def torch_step(p, x, y, lr):
    import steps
    try:
        import torch
    except ImportError as e:
        raise steps.Unavailable("pytorch: not installed (pip install -r bench/requirements.txt)") from e

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(VOCAB, EMBED)
            self.lstm = torch.nn.LSTM(EMBED, UNITS, batch_first=True)
            self.dense = torch.nn.Linear(UNITS, CLASSES)

        def forward(self, ids):
            _, (h, _) = self.lstm(self.embedding(ids))
            return self.dense(h[-1])

    model = Net()
    with torch.no_grad():  # PyTorch keeps (out, in) matrices and a second bias (zero here: Keras has one)
        for param, value in ((model.embedding.weight, p["embeddings"]), (model.lstm.weight_ih_l0, p["kernel"].T),
                             (model.lstm.weight_hh_l0, p["recurrent_kernel"].T), (model.lstm.bias_ih_l0, p["bias"]),
                             (model.lstm.bias_hh_l0, 0 * p["bias"]), (model.dense.weight, p["dense_kernel"].T),
                             (model.dense.bias, p["dense_bias"])):
            param.copy_(torch.from_numpy(value.copy()))
    return steps.torch_train(torch, model, torch.from_numpy(x.astype("int64")), y, lr,
                             "nn.Embedding, nn.LSTM(batch_first), nn.Linear")


def measure_child(args) -> None:
    import numpy as np
    import steps
    notes = common.limit_threads(args.thread_counts[0])
    rng = np.random.default_rng(1)
    x = rng.integers(0, VOCAB, (BATCH, STEPS)).astype(np.int32)
    y = rng.integers(0, CLASSES, BATCH).astype(np.int32)
    steps.build_and_measure([pyautodiff_steps, lambda *a: [torch_step(*a)]], init_params(), x, y, 0.001, CASE,
                            args, notes)


def goals(rows: list) -> list:
    return [common.goal(f"LSTM Adam step{' as a Function' if 'Function' in impl else ''}, 1 thread",
                        "at least as fast as PyTorch eager (its fused nn.LSTM)",
                        common.ratios_of(rows, impl, "pytorch", threads=1), 1.0)
            for impl in ("pyautodiff eager", "pyautodiff Function")]


def main() -> None:
    common.step_bench_main(__file__, __doc__, "lstm", "LSTM training step (µs per step)", measure_child, goals)

if __name__ == "__main__":
    main()
