"""One training step of a dense classifier, written idiomatically in each framework.

The network: Dense layers with the given activation between them (none after the last), sparse
softmax cross-entropy from logits averaged over the batch, Adam. Every implementation starts from the
same float32 weights (`init_params`) and sees the same batch, so their first losses must agree; the
benchmarks check that before timing. Each builder returns a `Step`, or raises `Unavailable`.
"""

from __future__ import annotations

import itertools

import numpy as np

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # Keras' Adam defaults (the API's); PyTorch is given the same eps


class Unavailable(Exception):
    """The framework (or the feature) is absent: the benchmark skips it with this message."""


class Step:
    def __init__(self, name: str, run, variant: str, adam: str = "keras"):
        self.name = name
        self.adam = adam  # where Adam adds epsilon: "keras" (before bias correction) or "pytorch" (after)
        self.run = run  # run() performs one step, waits for it, and returns the loss as a float-able
        self.variant = variant


def init_params(sizes: list[int], seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Glorot-uniform kernels (in, out) and small non-zero biases, float32."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params.append((rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                       rng.uniform(-0.1, 0.1, fan_out).astype(np.float32)))
    return params


# --- pyautodiff ----------------------------------------------------------------------------------

def _ad_model_layer(ad, params, activation, lr):
    """Dense layers, loss and Adam from the model layer, set to the given weights; None when absent."""
    try:
        from pyautodiff import layers, losses, optimizers
        dense_cls = layers.Dense
        losses.SparseCategoricalCrossentropy, optimizers.Adam  # noqa: B018 - layers_step needs them
    except (ImportError, AttributeError):
        return None
    dense = [dense_cls(w.shape[1], activation=activation if i < len(params) - 1 else None)
             for i, (w, _) in enumerate(params)]
    h = ad.zeros((1, params[0][0].shape[0]))
    for layer in dense:  # a first call builds the weights, which then take the shared values
        h = layer(h)
    variables = []
    for layer, (w, b) in zip(dense, params):
        kernel, bias = layer.trainable_variables
        if tuple(kernel.shape) != w.shape or tuple(bias.shape) != b.shape:
            raise Unavailable(f"Dense weights have shapes {kernel.shape}, {bias.shape}; expected {w.shape}, {b.shape}")
        kernel.assign(ad.array(w))
        bias.assign(ad.array(b))
        variables += [kernel, bias]
    return (layers_step(ad, dense, variables, lr),
            "model layer: ad.layers.Dense, ad.losses.SparseCategoricalCrossentropy, ad.optimizers.Adam", dense)


def layers_step(ad, layers, variables, lr):
    """One step through built ad.layers in turn: sparse cross-entropy from logits, a tape, ad.optimizers.Adam."""
    loss_fn = ad.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = ad.optimizers.Adam(learning_rate=lr, beta_1=BETA_1, beta_2=BETA_2, epsilon=EPSILON)

    def step(x, y):
        with ad.GradientTape() as tape:
            h = x
            for layer in layers:
                h = layer(h)
            loss = loss_fn(y, h)
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    return step


def _ad_seed_form(ad, params, activation, lr):
    """The step as the seed writes it: an ad.Model subclass, model.trainable_variables and optimizer.update on
    every step (issue 18: the idiomatic form, not a hand-hoisted one); None when the model layer is absent."""
    built = _ad_model_layer(ad, params, activation, lr)
    if built is None:
        return None
    dense = built[2]

    class Net(ad.Model):
        def __init__(self):
            super().__init__()
            self.dense = dense

        def call(self, inputs, training=False):
            for layer in self.dense:
                inputs = layer(inputs, training=training)
            return inputs

    model = Net()
    loss_fn = ad.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = ad.optimizers.Adam(learning_rate=lr, beta_1=BETA_1, beta_2=BETA_2, epsilon=EPSILON)

    def step(x, y):
        with ad.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        params = model.trainable_variables
        optimizer.update(params, tape.gradient(loss, params))
        return loss

    return step, "seed form: an ad.Model subclass, model.trainable_variables and optimizer.update each step"


def _ad_ops(ad, params, activation, lr):
    """The same step written with ops and Variables, Adam written with ops."""
    act = {"sigmoid": ad.sigmoid, "relu": ad.relu, "tanh": ad.tanh}[activation]
    variables = [ad.Variable(a) for w, b in params for a in (w, b)]
    moments = [(ad.Variable(ad.zeros(v.shape)), ad.Variable(ad.zeros(v.shape))) for v in variables]
    count = [0]
    depth = int(params[-1][0].shape[1])

    def step(x, y):
        with ad.GradientTape() as tape:
            h = x
            for i in range(0, len(variables), 2):
                h = ad.matmul(h, variables[i]) + variables[i + 1]
                if i < len(variables) - 2:
                    h = act(h)
            loss = -ad.reduce_mean(ad.reduce_sum(ad.one_hot(y, depth) * ad.log_softmax(h), axis=1))
        grads = tape.gradient(loss, variables)
        count[0] += 1
        t = count[0]
        lr_t = lr * (1 - BETA_2 ** t) ** 0.5 / (1 - BETA_1 ** t)
        for v, g, (m, s) in zip(variables, grads, moments):
            m.assign(ad.scale(BETA_1, m) + ad.scale(1 - BETA_1, g))
            s.assign(ad.scale(BETA_2, s) + ad.scale(1 - BETA_2, ad.square(g)))
            v.assign_sub(ad.scale(lr_t, m / (ad.sqrt(s) + EPSILON)))
        return loss

    return step, "ops + Variables, Adam written with ops (the model layer is not importable yet)"


def pyautodiff_steps(params, activation, x, y, lr) -> list[Step | Unavailable]:
    """The eager step, and the same step as an ad.Function (each a Step or the reason it is missing)."""
    import pyautodiff as ad
    tx, ty = ad.array(x), ad.array(y.astype(np.int32))
    out = []
    try:
        built = _ad_model_layer(ad, params, activation, lr)
    except Exception as e:  # noqa: BLE001 - an unfinished model layer must not stop the benchmark
        built, note = None, f"model layer present but failed ({type(e).__name__}: {e}); "
    else:
        note = ""
    eager, variant = (built or _ad_ops(ad, params, activation, lr))[:2]
    out.append(Step("pyautodiff eager", lambda: eager(tx, ty), note + variant))
    seed_form = built and _ad_seed_form(ad, params, activation, lr)
    if seed_form:
        out.append(Step("pyautodiff eager (seed form)", lambda: seed_form[0](tx, ty), seed_form[1]))
    function = getattr(ad, "Function", None)
    if function is None:
        out.append(Unavailable("pyautodiff Function: ad.Function does not exist yet"))
    else:
        fresh, variant = (_ad_model_layer(ad, params, activation, lr) or _ad_ops(ad, params, activation, lr))[:2]
        try:
            traced = function(fresh)
        except Exception as e:  # noqa: BLE001
            out.append(Unavailable(f"pyautodiff Function: ad.Function(step) failed ({type(e).__name__}: {e})"))
        else:
            out.append(Step("pyautodiff Function", lambda: traced(tx, ty), "ad.Function of the whole step, " + variant))
    return out


# --- PyTorch -------------------------------------------------------------------------------------

def torch_step(params, activation, x, y, lr) -> Step:
    try:
        import torch
    except ImportError as e:
        raise Unavailable("pytorch: not installed (pip install -r bench/requirements.txt)") from e
    act = {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[activation]
    modules = []
    for i, (w, b) in enumerate(params):
        linear = torch.nn.Linear(*w.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear] + ([act()] if i < len(params) - 1 else [])
    return torch_train(torch, torch.nn.Sequential(*modules), torch.from_numpy(x), y, lr,
                       "nn.Sequential(nn.Linear...)")


def torch_train(torch, model, tx, y, lr, variant: str) -> Step:
    """The PyTorch step of model on the batch (tx, y): CrossEntropyLoss, optim.Adam with Keras' betas and eps."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(BETA_1, BETA_2), eps=EPSILON)
    ty = torch.from_numpy(y.astype(np.int64))
    loss_fn = torch.nn.CrossEntropyLoss()

    def run():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(tx), ty)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return Step("pytorch", run, f"torch {torch.__version__} eager: {variant}, CrossEntropyLoss, optim.Adam "
                                "(default implementation)", adam="pytorch")


# --- JAX -----------------------------------------------------------------------------------------

def jax_step(params, activation, x, y, lr) -> Step:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as e:
        raise Unavailable("jax jit: jax is not installed (pip install 'jax[cpu]')") from e
    act = {"sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu, "tanh": jnp.tanh}[activation]

    def loss_fn(p, x, y):
        h = x
        for i, (w, b) in enumerate(p):
            h = h @ w + b
            if i < len(p) - 1:
                h = act(h)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(h), y[:, None], axis=1))

    @jax.jit
    def step(p, m, v, t, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        t = t + 1
        lr_t = lr * jnp.sqrt(1 - BETA_2 ** t) / (1 - BETA_1 ** t)
        m = jax.tree_util.tree_map(lambda m, g: BETA_1 * m + (1 - BETA_1) * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: BETA_2 * v + (1 - BETA_2) * g * g, v, g)
        p = jax.tree_util.tree_map(lambda p, m, v: p - lr_t * m / (jnp.sqrt(v) + EPSILON), p, m, v)
        return p, m, v, t, loss

    p = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]
    zeros = jax.tree_util.tree_map(jnp.zeros_like, p)
    state = [p, zeros, zeros, jnp.float32(0.0)]
    tx, ty = jnp.asarray(x), jnp.asarray(y.astype(np.int32))

    def run():
        p, m, v, t, loss = step(*state, tx, ty)
        state[:] = [p, m, v, t]
        return loss.block_until_ready()

    return Step("jax jit", run, f"jax {jax.__version__}: jax.jit of the whole step (value_and_grad + Adam)")


# --- HIPS autograd -------------------------------------------------------------------------------

def autograd_step(params, activation, x, y, lr) -> Step:
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError as e:
        raise Unavailable("autograd: not installed (pip install autograd)") from e
    act = {"sigmoid": lambda z: 1 / (1 + anp.exp(-z)), "relu": lambda z: anp.maximum(z, 0), "tanh": anp.tanh}[
        activation]
    rows = np.arange(len(y))

    def loss_fn(p):
        h = x
        for i, (w, b) in enumerate(p):
            h = anp.dot(h, w) + b
            if i < len(p) - 1:
                h = act(h)
        top = anp.max(h, axis=1, keepdims=True)
        log_probs = h - top - anp.log(anp.sum(anp.exp(h - top), axis=1, keepdims=True))
        return -anp.mean(log_probs[rows, y])

    value_and_grad = autograd.value_and_grad(loss_fn)
    p = [(w.copy(), b.copy()) for w, b in params]
    m = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    v = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    count = [0]

    def run():
        loss, grads = value_and_grad(p)
        count[0] += 1
        t = count[0]
        lr_t = lr * np.sqrt(1 - BETA_2 ** t) / (1 - BETA_1 ** t)
        for i, g_pair in enumerate(grads):
            new = []
            for j, g in enumerate(g_pair):
                m[i][j][...] = BETA_1 * m[i][j] + (1 - BETA_1) * g
                v[i][j][...] = BETA_2 * v[i][j] + (1 - BETA_2) * g * g
                new.append(p[i][j] - (lr_t * m[i][j] / (np.sqrt(v[i][j]) + EPSILON)).astype(np.float32))
            p[i] = tuple(new)
        return loss

    from importlib.metadata import version
    return Step("autograd", run, f"HIPS autograd {version('autograd')}: value_and_grad on autograd.numpy, "
                                 "Adam in numpy")


# --- the comparison ------------------------------------------------------------------------------

def all_steps(params, activation, x, y, lr, include=("pyautodiff", "pytorch", "jax", "autograd")):
    """Every available implementation as a Step, and notes for the missing ones."""
    steps, notes = [], []
    builders = {"pytorch": torch_step, "jax": jax_step, "autograd": autograd_step}
    for name in include:
        candidates = []
        try:
            candidates = (pyautodiff_steps(params, activation, x, y, lr) if name == "pyautodiff"
                          else [builders[name](params, activation, x, y, lr)])
        except Unavailable as e:
            candidates = [e]
        except Exception as e:  # noqa: BLE001 - one broken framework must not stop the others
            candidates = [Unavailable(f"{name}: failed to build ({type(e).__name__}: {e})")]
        for c in candidates:
            (notes.append(f"skipped {c}") if isinstance(c, Unavailable) else steps.append(c))
    return steps, notes


def _agree(a: list[float], b: list[float], same_adam: bool) -> bool:
    """The first loss (same weights, same batch) must match to float32 rounding; later ones follow Adam,
    whose epsilon PyTorch adds after the bias correction and Keras before it: looser across the two."""
    def close(u, v, rel):
        return abs(u - v) <= rel * max(1.0, abs(v))
    return close(a[0], b[0], 1e-4) and all(close(u, v, 1e-4 if same_adam else 2e-2) for u, v in zip(a[1:], b[1:]))


def check_agreement(steps: list[Step], n: int = 3) -> tuple[list[Step], list[str]]:
    """Run n steps of each and compare their losses with a reference's (notes say where they differ)."""
    losses, notes, kept = {}, [], []
    for s in steps:
        try:
            losses[s.name] = [float(s.run()) for _ in range(n)]
        except Exception as e:  # noqa: BLE001 - e.g. a Function that cannot trace yet
            notes.append(f"skipped {s.name}: its step raised {type(e).__name__}: {e}")
    kept = [s for s in steps if s.name in losses]
    ref = next((s for k in ("jax jit", "autograd", "pytorch") for s in kept if s.name == k), None)
    if ref is None:
        return kept, notes + ["no reference library to check the losses against"]
    bad = [s for s in kept
           if s is not ref and not _agree(losses[s.name], losses[ref.name], s.adam == ref.adam)]
    for s in bad:
        notes.append(f"{s.name}: its first {n} losses {losses[s.name]} differ from {ref.name}'s "
                     f"{losses[ref.name]}: timed anyway, but check it")
    fmt = ", ".join(f"{v:.6f}" for v in losses[ref.name])
    notes.append(f"the first {n} losses of every implementation agree with {ref.name}'s ({fmt})"
                 + (" except as noted" if bad else "")
                 + " to 1e-4 (PyTorch's after its first step to 2e-2: its Adam adds epsilon elsewhere)")
    return kept, notes


def measure_and_write(built: list, case: str, threads: int, args, notes: list) -> None:
    """Check the steps agree, time them side by side (µs per step) and hand the rows to the parent."""
    import common
    built, more = check_agreement(built)
    notes = notes + more + [f"{s.name}: {s.variant}" for s in built]
    rows = []
    for name, t in common.measure_many({s.name: s.run for s in built}, args.mode).items():
        rows.append(common.row(case, threads, name, t["median_s"] * 1e6, t))
        print(f"  {name:>20}: {rows[-1]['value']:9.1f} µs/step", flush=True)
    common.write_child(args.child, rows, notes)


def build_and_measure(makers, params, x, y, lr, case: str, args, notes: list) -> None:
    """Build each maker's Steps (or the reasons they are missing), then check and time them side by side."""
    built = []
    for make in makers:
        try:
            made = make(params, x, y, lr)
        except Unavailable as e:
            made = [e]
        built += [s for s in made if isinstance(s, Step)]
        notes = notes + [f"skipped {s}" for s in made if isinstance(s, Unavailable)]
    measure_and_write(built, case, args.thread_counts[0], args, notes)


def eager_and_function(ad, build, x, y, variant: str) -> list:
    """The eager step build() makes, and another one as an ad.Function (or the reason it failed), on the batch."""
    tx, ty = ad.array(x), ad.array(y)
    eager, out = build(), []
    out.append(Step("pyautodiff eager", lambda: eager(tx, ty), variant))
    try:
        traced = ad.function(build())
    except Exception as e:  # noqa: BLE001 - the eager figure stands on its own
        out.append(Unavailable(f"pyautodiff Function: failed ({type(e).__name__}: {e})"))
    else:
        out.append(Step("pyautodiff Function", lambda: traced(tx, ty), "ad.Function of the whole step, " + variant))
    return out

