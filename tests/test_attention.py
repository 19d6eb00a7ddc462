"""Attention layers: Keras 3 parity (outputs, attention scores, gradients, weight names, shapes and order, output
shapes and configs recorded from Keras itself by tools/keras_attention_refs.py: no Keras needed here, and no numpy:
the Pyodide suite runs them), float64 forward and gradients against numpy references written here, masks, causal
masks, dropout, functional and subclassed models (fit through a traced Function), configs, errors."""

import math
import random

import pytest

import pyautodiff as ad
from pyautodiff import layers as L


def values(n, seed):  # fixed inputs and weights (tools/keras_attention_refs.py makes the same)
    return [math.sin(0.731 * i + 1.9 * seed) for i in range(n)]


def fixed(shape, seed, dtype="float32"):
    return ad.reshape(ad.array(values(math.prod(shape), seed), dtype), shape)


def flat(t):
    return ad.reshape(t, (t.size,)).tolist()


def plain(v):
    return [plain(x) for x in v] if isinstance(v, (list, tuple)) else v


def assert_close(got, want, tol, what):
    assert len(got) == len(want), (what, len(got), len(want))
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if not abs(g - w) <= tol * (1 + abs(w))]
    assert not bad, f"{what}: {len(bad)} of {len(want)} differ, first (index, got, keras) {bad[:3]}"


def call_layer(layer, inputs, **kwargs):
    """Attention layers take a list of inputs, MultiHeadAttention takes them as arguments."""
    if isinstance(layer, L.MultiHeadAttention):
        return layer(*inputs, **kwargs)
    return layer(list(inputs), **kwargs)


MASKS = ("query_mask", "value_mask", "key_mask", "attention_mask")


def tensors(call: dict) -> dict:
    """A case's call arguments with its masks (nested lists) as tensors."""
    return {k: [ad.array(m, "int32") for m in v] if k == "mask" else ad.array(v, "int32") if k in MASKS else v
            for k, v in call.items()}


# Keras parity cases: (id, layer class, constructor arguments, input shapes [query, value(, key)], call arguments)
CASES = [
    ("attention_dot", "Attention", {}, [(2, 3, 4), (2, 5, 4)], {}),
    ("attention_scale_key", "Attention", {"use_scale": True}, [(2, 3, 4), (2, 5, 3), (2, 5, 4)], {}),
    ("attention_concat", "Attention", {"score_mode": "concat", "use_scale": True}, [(1, 3, 2), (1, 4, 2)], {}),
    ("attention_masks_causal", "Attention", {}, [(2, 4, 3), (2, 4, 3)],
     {"mask": [[[1, 1, 0, 1], [1, 1, 1, 0]], [[1, 0, 1, 1], [1, 1, 0, 1]]], "use_causal_mask": True}),
    ("additive_masked", "AdditiveAttention", {}, [(2, 3, 4), (2, 5, 4)],
     {"mask": [[[1, 1, 0], [0, 1, 1]], [[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]]]}),
    ("additive_noscale_key", "AdditiveAttention", {"use_scale": False}, [(1, 2, 3), (1, 4, 2), (1, 4, 3)], {}),
    ("mha_self", "MultiHeadAttention", {"num_heads": 2, "key_dim": 3}, [(2, 4, 6), (2, 4, 6)], {}),
    ("mha_cross_key", "MultiHeadAttention", {"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": 5},
     [(2, 3, 4), (2, 5, 6), (2, 5, 3)], {}),
    ("mha_nobias_output_shape", "MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "use_bias": False,
                                                       "output_shape": (2, 3)}, [(1, 3, 4), (1, 2, 4)], {}),
    ("mha_masks", "MultiHeadAttention", {"num_heads": 2, "key_dim": 3}, [(2, 4, 5), (2, 3, 5), (2, 3, 5)],
     {"query_mask": [[1, 1, 1, 0], [1, 0, 1, 1]], "value_mask": [[1, 1, 0], [0, 1, 1]],
      "key_mask": [[1, 1, 1], [1, 1, 0]]}),
    ("mha_causal_attention_mask", "MultiHeadAttention", {"num_heads": 2, "key_dim": 2}, [(2, 4, 3), (2, 4, 3)],
     {"use_causal_mask": True, "attention_mask": [[[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 0, 1], [1, 1, 1, 1]],
                                                  [[1, 0, 1, 1], [1, 0, 1, 1], [1, 1, 1, 0], [1, 0, 0, 1]]]}),
    ("mha_rank4", "MultiHeadAttention", {"num_heads": 2, "key_dim": 2}, [(1, 2, 3, 4), (1, 2, 2, 4)], {}),
]


@pytest.mark.parametrize("case, cls, kwargs, shapes, call", CASES, ids=[c[0] for c in CASES])
def test_keras_parity(case, cls, kwargs, shapes, call):
    ref = KERAS[case]
    layer = getattr(L, cls)(**kwargs)
    unknown = [(None,) + s[1:] for s in shapes]
    out_shape = layer.compute_output_shape(*unknown) if cls == "MultiHeadAttention" else \
        layer.compute_output_shape(unknown)
    assert out_shape == tuple(ref["output_shape"])
    inputs = [fixed(s, 1 + i) for i, s in enumerate(shapes)]
    call = tensors(call)
    call_layer(layer, inputs, **call)  # builds it
    assert [(v.name.split("/")[-1], v.shape) for v in layer.weights] == [(n, tuple(s)) for n, s in ref["weights"]]
    config = layer.get_config()
    assert {key: plain(config[key]) for key in ref["config"]} == ref["config"]
    layer.set_weights([fixed(v.shape, 100 + j) for j, v in enumerate(layer.weights)])
    with ad.GradientTape() as tape:
        for x in inputs:
            tape.watch(x)
        y, scores = call_layer(layer, inputs, return_attention_scores=True, **call)
        loss = ad.reduce_sum(y * fixed(y.shape, 9))
    assert y.shape == shapes[0][:1] + tuple(ref["output_shape"][1:])
    assert_close(flat(y), ref["y"], 2e-5, "output")
    assert_close(flat(scores), ref["scores"], 2e-5, "attention scores")
    grads = tape.gradient(loss, inputs + layer.trainable_variables, unconnected_gradients="zero")
    names = ["query", "value", "key"][:len(inputs)] + [v.name for v in layer.weights]
    for what, g, want in zip(names, grads, ref["grads"]):
        assert_close(flat(g), want, 2e-5, f"gradient of {what}")


def test_mha_weight_paths_follow_keras():
    layer = L.MultiHeadAttention(2, 3, name="mha")
    layer(ad.zeros((1, 2, 4)), ad.zeros((1, 3, 5)))
    assert [v.name for v in layer.weights] == [f"mha/{p}/{w}" for p in ("query", "key", "value", "attention_output")
                                               for w in ("kernel", "bias")]
    assert layer.count_params() == (4 * 6 + 6) + 2 * (5 * 6 + 6) + (6 * 4 + 4)


# --- float64 against numpy references written here (forward, and gradients by central differences of them) ---

@pytest.fixture
def np():
    return pytest.importorskip("numpy")


def masked_softmax(np, s, keep, lower):
    """Keras' masking: Attention lowers masked scores by 1e9, MultiHeadAttention replaces them by -1e9 and zeroes
    their weights after the softmax. (Where a row is fully masked, s - 1e9 keeps only ~1e-7 of s: the float64
    gradients avoid such rows.)"""
    if keep is not None:
        s = np.where(keep, s, s - 1e9 if lower else -1e9)
    e = np.exp(s - s.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    return p if keep is None or lower else np.where(keep, p, 0.0)


def causal(np, t, s):
    return np.tril(np.ones((t, s), bool))


def attention_ref(np, q, v, k, score, q_mask=None, v_mask=None, use_causal_mask=False):
    keep = None if v_mask is None else v_mask[:, None, :].astype(bool)
    if use_causal_mask:
        keep = causal(np, q.shape[1], v.shape[1]) if keep is None else keep & causal(np, q.shape[1], v.shape[1])
    y = masked_softmax(np, score(q, k), keep, lower=True) @ v
    return y if q_mask is None else np.where(q_mask[:, :, None].astype(bool), y, 0.0)


def mha_ref(np, q, v, k, wq, bq, wk, bk, wv, bv, wo, bo, keep=None):
    heads, key_dim = wq.shape[1:]
    qp = np.einsum("btd,dnh->bnth", q, wq) + bq[:, None, :]
    kp = np.einsum("bsd,dnh->bnsh", k, wk) + bk[:, None, :]
    vp = np.einsum("bsd,dnh->bnsh", v, wv) + bv[:, None, :]
    p = masked_softmax(np, qp @ kp.transpose(0, 1, 3, 2) / math.sqrt(key_dim), keep, lower=False)
    return np.einsum("bnth,nho->bto", p @ vp, wo) + bo


Q_MASK, V_MASK = [[1, 0, 1], [1, 1, 0]], [[1, 1, 0, 1], [1, 0, 1, 1]]  # (no row fully masked: see above)


def _np_cases():
    dot = lambda np, q, k: q @ k.transpose(0, 2, 1)  # noqa: E731
    return [
        (L.Attention(use_scale=True), [(2, 3, 2), (2, 4, 3), (2, 4, 2)], {},
         lambda np, q, v, k, s: attention_ref(np, q, v, k, lambda q, k: s * dot(np, q, k))),
        (L.Attention(), [(2, 3, 2), (2, 4, 2)], {"mask": [Q_MASK, V_MASK], "use_causal_mask": True},
         lambda np, q, v: attention_ref(np, q, v, v, lambda q, k: dot(np, q, k), np.array(Q_MASK),
                                        np.array(V_MASK), True)),
        (L.Attention(score_mode="concat"), [(1, 2, 3), (1, 3, 3)], {},
         lambda np, q, v, c: attention_ref(np, q, v, v, lambda q, k: c * np.tanh(q[:, :, None] + k[:, None]).sum(-1))),
        (L.AdditiveAttention(), [(2, 3, 2), (2, 4, 2)], {"mask": [Q_MASK, V_MASK]},
         lambda np, q, v, s: attention_ref(np, q, v, v, lambda q, k: (s * np.tanh(q[:, :, None] + k[:, None])).sum(-1),
                                           np.array(Q_MASK), np.array(V_MASK))),
        (L.MultiHeadAttention(2, 2, value_dim=3), [(2, 3, 3), (2, 4, 2), (2, 4, 3)], {},
         lambda np, q, v, k, *w: mha_ref(np, q, v, k, *w)),
        (L.MultiHeadAttention(2, 3, output_shape=2), [(2, 3, 2), (2, 4, 2)],
         {"query_mask": Q_MASK, "value_mask": V_MASK, "use_causal_mask": True},
         lambda np, q, v, *w: mha_ref(np, q, v, v, *w, keep=(np.array(Q_MASK)[:, None, :, None] * np.array(V_MASK)[
             :, None, None, :] * causal(np, 3, 4)).astype(bool))),
    ]


@pytest.mark.parametrize("index", range(6))
def test_against_numpy_float64(np, index):
    layer, shapes, call, reference = _np_cases()[index]
    layer.dtype = "float64"
    rng = np.random.default_rng(index)
    inputs = [ad.array(rng.uniform(-1, 1, s), "float64") for s in shapes]
    call_layer(layer, inputs, **tensors(call))
    layer.set_weights([rng.uniform(-1, 1, v.shape) for v in layer.weights])
    args = [x.numpy() for x in inputs] + [v.numpy() for v in layer.weights]
    with ad.GradientTape() as tape:
        for x in inputs:
            tape.watch(x)
        y = call_layer(layer, inputs, **tensors(call))
        upstream = rng.uniform(-1, 1, y.shape)
        loss = ad.reduce_sum(y * ad.array(upstream, "float64"))
    want = reference(np, *args)
    assert y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)
    grads = tape.gradient(loss, inputs + layer.trainable_variables, unconnected_gradients="zero")
    eps = 1e-6
    for k, (arg, g) in enumerate(zip(args, grads)):
        numeric = np.empty_like(arg)
        for i in np.ndindex(*arg.shape):
            sums = []
            for step in (eps, -eps):
                moved = [a.copy() for a in args]
                moved[k][i] += step
                sums.append(np.sum(reference(np, *moved) * upstream))
            numeric[i] = (sums[0] - sums[1]) / (2 * eps)
        np.testing.assert_allclose(g.numpy(), numeric, rtol=1e-6, atol=1e-7, err_msg=f"gradient of argument {k}")


# --- masks, dropout, configs ---------------------------------------------------------------------------------

def test_masked_positions_get_no_weight():
    q, v = fixed((2, 3, 4), 1), fixed((2, 5, 4), 2)
    _, scores = L.Attention()([q, v], mask=[None, ad.array([[1, 1, 0, 1, 0]] * 2)],
                              return_attention_scores=True, use_causal_mask=True)
    for b in range(2):
        for i in range(3):
            row = scores.tolist()[b][i]
            assert all(row[j] == 0.0 for j in range(5) if j > i or j in (2, 4)), row
            assert abs(sum(row) - 1) < 1e-6
    mha = L.MultiHeadAttention(2, 2)
    _, scores = mha(q, v, query_mask=[[1, 1, 0], [1, 1, 1]], value_mask=[[1, 1, 0, 1, 0]] * 2,
                    return_attention_scores=True)
    rows = scores.tolist()
    assert all(p == 0.0 for h in range(2) for p in rows[0][h][2])  # a masked query attends to nothing (Keras)
    assert all(rows[b][h][i][j] == 0.0 for b in range(2) for h in range(2) for i in range(3) for j in (2, 4))


def test_a_propagated_mask_is_the_explicit_one():
    q, v = fixed((2, 3, 4), 1), fixed((2, 5, 4), 2)
    qm, vm = ad.array([[1, 0, 1], [1, 1, 1]]), ad.array([[1, 1, 0, 1, 1], [0, 1, 1, 1, 1]])
    mha = L.MultiHeadAttention(2, 3)
    explicit = mha(q, v, query_mask=qm, value_mask=vm)
    assert flat(mha(q, v, mask=[qm, vm])) == flat(explicit)
    assert flat(mha(q, v, mask=[None, vm], query_mask=qm)) == flat(explicit)
    assert flat(mha(q, v, mask=[qm, None], value_mask=vm)) == flat(explicit)
    assert flat(mha(q, v)) != flat(explicit)


def test_causal_self_attention_ignores_the_future():
    x = fixed((1, 5, 4), 1)
    changed = ad.concat([x[:, :3], fixed((1, 2, 4), 7)], axis=1)
    attention, mha = L.Attention(), L.MultiHeadAttention(2, 3)
    for run in (lambda t: attention([t, t], use_causal_mask=True), lambda t: mha(t, t, use_causal_mask=True)):
        before, after = run(x), run(changed)
        assert flat(before[:, :3]) == flat(after[:, :3])
        assert flat(before[:, 3:]) != flat(after[:, 3:])


def test_dropout_only_while_training():
    q, v = fixed((2, 6, 4), 1), fixed((2, 7, 4), 2)
    plain_out, plain_scores = L.Attention()([q, v], return_attention_scores=True)
    layer = L.Attention(dropout=0.5, seed=3)
    assert flat(layer([q, v])) == flat(plain_out)
    out, scores = layer([q, v], training=True, return_attention_scores=True)
    kept = [(s, p) for s, p in zip(flat(scores), flat(plain_scores)) if s != 0.0]
    assert 0 < len(kept) < scores.size  # some weights dropped, the rest scaled by 1 / (1 - rate)
    assert all(abs(s - 2 * p) < 1e-6 for s, p in kept)
    assert flat(out) != flat(plain_out)
    mha = L.MultiHeadAttention(2, 3, dropout=0.5, seed=1)
    eval_out, eval_scores = mha(q, v, return_attention_scores=True)
    out, scores = mha(q, v, training=True, return_attention_scores=True)
    assert flat(scores) == flat(eval_scores)  # Keras returns the scores before their dropout
    assert flat(out) != flat(eval_out)
    assert flat(mha(q, v)) == flat(eval_out)


@pytest.mark.parametrize("make", [
    lambda: L.Attention(use_scale=True, score_mode="concat", dropout=0.25, seed=4, name="att"),
    lambda: L.AdditiveAttention(use_scale=False, dropout=0.1),
    lambda: L.MultiHeadAttention(3, 2, value_dim=4, dropout=0.1, use_bias=False, output_shape=(2, 3),
                                 kernel_initializer="he_normal", bias_initializer="ones", seed=5),
])
def test_get_config_rebuilds_an_equivalent_layer(make):
    layer = make()
    inputs = [fixed((2, 3, 6), 1), fixed((2, 4, 6), 2)]
    want = call_layer(layer, inputs)
    config = layer.get_config()
    twin = type(layer)(**{**config, "name": None})
    assert twin.get_config() == {**config, "name": twin.name}
    call_layer(twin, inputs)
    twin.set_weights(layer.get_weights())
    assert flat(call_layer(twin, inputs)) == flat(want)


# --- models ----------------------------------------------------------------------------------------------------

def test_a_functional_model_with_attention_scores():
    x = ad.Input((5, 4))
    y, scores = L.MultiHeadAttention(2, 3, name="mha")(x, x, return_attention_scores=True)
    h, weights = L.Attention()([y, x], return_attention_scores=True)
    model = ad.Model(x, [L.GlobalAveragePooling1D()(h), scores, weights])
    out, scores, weights = model(fixed((3, 5, 4), 1))
    assert (out.shape, scores.shape, weights.shape) == ((3, 4), (3, 2, 5, 5), (3, 5, 5))
    lines = []
    model.summary(print_fn=lines.append)
    assert "mha (MultiHeadAttention)" in "\n".join(lines) and "Total params: 118" in "\n".join(lines)


def test_a_traced_function_matches_eager_and_retraces_for_new_shapes():
    mha = L.MultiHeadAttention(2, 3)
    step = ad.Function(lambda q, v: mha(q, v, use_causal_mask=True))
    for batch in (2, 3, 2):
        q, v = fixed((batch, 4, 5), batch), fixed((batch, 4, 5), batch + 1)
        assert flat(step(q, v)) == flat(mha(q, v, use_causal_mask=True))


def counting(n, length, seed):
    """Sequences of tokens 1..4 (0 pads the end); the label: does token 1 occur more often than token 2."""
    rng = random.Random(seed)
    xs, ys = [], []
    while len(xs) < n:
        size = rng.randint(4, length)
        seq = [rng.randint(1, 4) for _ in range(size)]
        ones, twos = seq.count(1), seq.count(2)
        if ones != twos:
            xs.append(seq + [0] * (length - size))
            ys.append(int(ones > twos))
    return ad.array(xs, "int32"), ad.array(ys, "int32")


class TransformerClassifier(ad.Model):
    def __init__(self):
        super().__init__()
        self.embed = L.Embedding(5, 16)
        self.attention = L.MultiHeadAttention(2, 8, dropout=0.1, seed=0)
        self.norm1, self.norm2 = L.LayerNormalization(), L.LayerNormalization()
        self.ffn = L.Dense(16, activation="relu")
        self.head = L.Dense(2)

    def call(self, tokens, training=False):
        x = self.embed(tokens)
        mask = ad.not_equal(tokens, 0)
        x = self.norm1(x + self.attention(x, x, query_mask=mask, value_mask=mask, training=training))
        x = self.norm2(x + self.ffn(x))
        return self.head(ad.reduce_mean(x, axis=1))


def test_a_transformer_block_learns_with_fit():
    x, y = counting(512, 8, seed=0)
    vx, vy = counting(200, 8, seed=1)
    model = TransformerClassifier()
    model.compile(ad.optimizers.Adam(0.01), ad.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=12, batch_size=32, verbose=0, seed=0)
    assert model.evaluate(vx, vy)["accuracy"] >= 0.9  # chance is about 1/2


# --- errors ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, match", [
    (lambda: L.Attention(score_mode="add"), r"Attention 'attention.*': invalid value for argument score_mode"),
    (lambda: L.Attention(dropout=1.0), r"dropout must lie in \[0, 1\), got 1.0"),
    (lambda: L.MultiHeadAttention(0, 2), r"MultiHeadAttention .*: num_heads must be a positive int, got 0"),
    (lambda: L.MultiHeadAttention(2, 2.5), r"key_dim must be a positive int, got 2.5"),
    (lambda: L.MultiHeadAttention(2, 2, value_dim=-1), r"value_dim must be a positive int"),
    (lambda: L.MultiHeadAttention(2, 2, output_shape=(3, 0)), r"output_shape must be a positive int or a tuple"),
    (lambda: L.MultiHeadAttention(2, 2, attention_axes="x"), r"attention_axes must be an int, list, or tuple"),
])
def test_bad_arguments_raise_clearly(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_raise_clearly():
    q, v = ad.zeros((2, 3, 4)), ad.zeros((2, 5, 4))
    attention = L.Attention(name="att")
    with pytest.raises(ValueError, match=r"Attention 'att': must be called on a list of inputs, namely \[query, "
                                         r"value\]"):
        attention(q)
    with pytest.raises(ValueError, match=r"Attention 'att': expects query, value and key of rank 3 .* got shapes "
                                         r"\[\(2, 3\), \(2, 5, 4\), \(2, 5, 4\)\]"):
        attention([ad.zeros((2, 3)), v])
    with pytest.raises(ValueError, match=r"query \(2, 3, 4\), value \(2, 5, 4\) and key \(2, 5, 3\) must agree"):
        attention([q, v, ad.zeros((2, 5, 3))])
    with pytest.raises(ValueError, match=r"query \(2, 3, 4\), value \(3, 5, 4\) .* must agree in the batch size"):
        attention([q, ad.zeros((3, 5, 4))])
    with pytest.raises(ValueError, match=r"Attention 'att': value_mask must have shape \(2, 5\), got \(2, 4\)"):
        attention([q, v], mask=[None, ad.ones((2, 4))])
    with pytest.raises(ValueError, match=r"Attention 'att': mask must be a list, namely \[query_mask, value_mask\]"):
        attention([q, v], mask=ad.ones((2, 5)))
    mha = L.MultiHeadAttention(2, 3, name="mha")
    with pytest.raises(TypeError, match=r"MultiHeadAttention 'mha': is called as layer\(query, value"):
        mha(q)
    with pytest.raises(ValueError, match=r"MultiHeadAttention 'mha': expects query, value and key of one rank >= 3 "
                                         r".* query \(2, 4\), value \(2, 5, 4\)"):
        mha(ad.zeros((2, 4)), v)
    with pytest.raises(ValueError, match=r"all dimensions of value and key, except the last one, must be equal. "
                                         r"Received: value_shape=\(2, 5, 4\) and key_shape=\(2, 6, 4\)"):
        mha(q, v, ad.zeros((2, 6, 4)))
    mha(q, v)
    with pytest.raises(ValueError, match=r"'mha': was built for value with last dimension 4, got shape \(2, 5, 3\)"):
        mha(q, ad.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"'mha': query_mask must have shape \(2, 3\), got \(2, 5\)"):
        mha(q, v, query_mask=ad.ones((2, 5)))
    with pytest.raises(ValueError, match=r"'mha': key_mask must have shape \(2, 5\), got \(5,\)"):
        mha(q, v, key_mask=ad.ones((5,)))
    with pytest.raises(ValueError, match=r"'mha': attention_mask must have shape \(2, 3, 5\) .* got \(2, 5, 3\)"):
        mha(q, v, attention_mask=ad.ones((2, 5, 3)))
    with pytest.raises(ValueError, match=r"'mha': mask \(the inputs' propagated masks\) must be a list"):
        mha(q, v, mask=ad.ones((2, 3)))
    with pytest.raises(ValueError, match=r"only attention over every axis between the batch and the features is "
                                         r"supported \(attention_axes=None, here \(1, 2\)\), got "
                                         r"attention_axes=\(2,\)"):
        L.MultiHeadAttention(2, 2, attention_axes=2)(ad.zeros((1, 2, 3, 4)), ad.zeros((1, 2, 3, 4)))
    with pytest.raises(ValueError, match=r"use_causal_mask needs inputs of rank 3"):
        L.MultiHeadAttention(2, 2)(ad.zeros((1, 2, 3, 4)), ad.zeros((1, 2, 3, 4)), use_causal_mask=True)


# --- generated by tools/keras_attention_refs.py: do not edit ---
# Keras 3.15.1 (torch backend)
KERAS = {'attention_dot': {'output_shape': [None, 3, 4],
                   'weights': [],
                   'config': {'use_scale': False, 'score_mode': 'dot', 'dropout': 0.0, 'seed': None},
                   'y': [0.08201635, -0.1859895, -0.3589574, -0.3485032, -0.2685939, -0.4775145, -0.442432, -0.1812731,
                         0.2076888, 0.4269918, 0.4281081, 0.2104673, -0.6853834, -0.277807, 0.2717248, 0.6824091,
                         0.268853, 0.1681352, -0.01849721, -0.1956778, -0.3742418, -0.2252162, 0.03889178, 0.2831266],
                   'scores': [0.08725572, 0.2128511, 0.1921531, 0.0961894, 0.4115507, 0.4492456, 0.07594243, 0.2116263,
                              0.1691955, 0.09399012, 0.03735038, 0.4927246, 0.0737654, 0.2281136, 0.168046, 0.1143889,
                              0.06697893, 0.265642, 0.03077824, 0.522212, 0.2440065, 0.1808353, 0.09959184, 0.4307683,
                              0.04479795, 0.07263207, 0.2226764, 0.1799771, 0.08896621, 0.4357483],
                   'grads': [[-0.2315348, -0.5703543, -0.6177309, -0.3494559, 0.3759651, 0.8673874, 0.9155871, 0.495935,
                              -0.2564083, -0.9371458, -1.139015, -0.7588643, 0.1385855, 0.1845585, 0.1362248,
                              0.01828218, 0.2622938, -0.08741572, -0.3924571, -0.4969586, -0.3283396, 0.03420215,
                              0.3792672, 0.5305321],
                             [0.9654081, 0.7563204, 0.1607637, -0.5169408, -1.48511, -1.262551, -0.3948473, 0.6746179,
                              0.381916, 0.2574983, 0.001502622, -0.2552609, -0.5806658, -0.4610123, -0.1057881,
                              0.3034923, -0.1605201, -0.1902373, -0.1227459, 0.007466838, -0.4741992, -0.568189,
                              -0.3718424, 0.01451046, 0.3704412, 0.5263768, 0.4133415, 0.08909453, -0.04899409,
                              0.04877412, 0.1216195, 0.132319, -0.1242959, -0.2448283, -0.240257, -0.1129177, 0.7518724,
                              1.142895, 0.9499143, 0.2715411]]},
 'attention_scale_key': {'output_shape': [None, 3, 3],
                         'weights': [('scale', ())],
                         'config': {'use_scale': True, 'score_mode': 'dot', 'dropout': 0.0, 'seed': None},
                         'y': [-0.5483948, -0.3395123, 0.04285609, 0.1898689, 0.2528263, 0.1865931, -0.5721976,
                               -0.4589775, -0.1112266, -0.2116748, -0.5064309, -0.5424081, 0.01284081, 0.1240659,
                               0.1718951, -0.0710896, -0.432463, -0.5728539],
                         'scores': [0.01989201, 0.4299171, 0.01391738, 0.5226917, 0.01358184, 0.2014079, 0.01595382,
                                    0.3428115, 0.01083208, 0.4289947, 0.05038654, 0.3296849, 0.02549007, 0.5775818,
                                    0.01685659, 0.01021443, 0.5112162, 0.009481197, 0.4563378, 0.01275042, 0.2874141,
                                    0.006482017, 0.3721774, 0.006059331, 0.3278672, 0.01296998, 0.4260707, 0.008435282,
                                    0.5444899, 0.008034263],
                         'grads': [[0.1833654, 0.2485448, 0.1867214, 0.02948597, -0.244023, -0.4027665, -0.3557021,
                                    -0.126879, 0.0150392, 0.1161568, 0.15792, 0.1189883, -0.144356, 0.01336448,
                                    0.1642559, 0.2312149, 0.2084154, 0.03443736, -0.1571378, -0.2684177, -0.02828169,
                                    -0.04923345, -0.04502762, -0.01781332],
                                   [0.09122355, 0.1575754, 0.1434084, -0.2566745, -0.4251219, -0.3763381, 0.1457243,
                                    0.2986785, 0.2990122, -0.2302015, -0.5643435, -0.6101139, 0.1788536, 0.3803993,
                                    0.3875664, 0.1861932, 0.2727433, 0.2199254, -0.4148097, -0.544013, -0.3952334,
                                    0.2430875, 0.3598232, 0.2926944, -0.335983, -0.5671458, -0.5085052, 0.2099038,
                                    0.3137743, 0.2573105],
                                   [0.5439956, 0.3669511, 0.002399946, -0.3633776, -0.7767001, -0.4911314, 0.0453985,
                                    0.5587304, -0.0644684, -0.03668774, 0.009839829, 0.05133938, 0.7888076, 0.4889537,
                                    -0.06074857, -0.5794092, -0.4916347, -0.3280858, 0.003110308, 0.332717, 0.0367421,
                                    0.04000551, 0.02282667, -0.006016269, -0.4703451, -0.4463085, -0.1942146, 0.1571201,
                                    0.5266669, 0.6041032, 0.3728514, -0.04892214, 0.4231647, 0.3910274, 0.1590807,
                                    -0.154154, -0.5162286, -0.5888275, -0.3605441, 0.05197225],
                                   [1.11064]]},
 'attention_concat': {'output_shape': [None, 3, 2],
                      'weights': [('scale', ()), ('concat_score_weight', ())],
                      'config': {'use_scale': True, 'score_mode': 'concat', 'dropout': 0.0, 'seed': None},
                      'y': [-0.1691109, -0.1202936, -0.1955626, -0.1298094, -0.1610436, -0.1005154],
                      'scores': [0.3200108, 0.2863383, 0.1952793, 0.1983715, 0.3124447, 0.3094489, 0.188876, 0.1892305,
                                 0.3051659, 0.292769, 0.2020013, 0.2000638],
                      'grads': [[-0.1226893, -0.08261199, -0.003886926, -0.01201828, -0.1189939, -0.1114858],
                                [-0.183434, 0.08882257, -0.1570769, 0.1320238, -0.1135021, 0.03419785, -0.1367561,
                                 0.0610673],
                                [0.02609785], [0.001590715]]},
 'attention_masks_causal': {'output_shape': [None, 4, 3],
                            'weights': [],
                            'config': {'use_scale': False, 'score_mode': 'dot', 'dropout': 0.0, 'seed': None},
                            'y': [-0.6118579, -0.9835941, -0.8527278, -0.6118579, -0.9835941, -0.8527278, 0.0, 0.0, 0.0,
                                  0.3967854, -0.005075529, -0.4043429, 0.005629356, 0.671795, 0.994683, 0.13807,
                                  0.5957565, 0.7490199, 0.6749172, 0.2875346, -0.246774, 0.0, 0.0, 0.0],
                            'scores': [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.1656809, 0.0, 0.8343191, 0.0,
                                       0.1882691, 0.0, 0.6667089, 0.1450219, 1.0, 0.0, 0.0, 0.0, 0.8352059, 0.1647942,
                                       0.0, 0.0, 0.1672137, 0.8327864, 0.0, 0.0, 0.411639, 0.3210715, 0.0, 0.2672895],
                            'grads': [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.9564147, -0.8535563, -0.3145427,
                                       0.0, 0.0, 0.0, 0.2005309, -0.1151315, -0.3719634, -0.1109538, 0.06370229,
                                       0.2058074, 0.0, 0.0, 0.0],
                                      [-0.4907971, 0.01261267, 0.5095776, 0.0, 0.0, 0.0, -1.131616, -0.5643735,
                                       0.2912552, 0.07424369, -0.03855825, -0.1316575, 0.704276, 0.2844675, -0.2806999,
                                       -0.7387005, -0.2019177, 0.4380421, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]},
 'additive_masked': {'output_shape': [None, 3, 4],
                     'weights': [('scale', (4,))],
                     'config': {'use_scale': True, 'dropout': 0.0, 'seed': None},
                     'y': [0.1541707, 0.3072966, 0.3033984, 0.1444679, 0.1189435, 0.238933, 0.2368312, 0.113712, 0.0,
                           0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2989456, 0.2084783, 0.01148159, -0.191382, 0.3760067,
                           0.210282, -0.06289376, -0.3039317],
                     'scores': [0.1323919, 0.6592718, 0.2083363, 0.0, 0.0, 0.1620531, 0.6227854, 0.2151615, 0.0, 0.0,
                                0.1589443, 0.5824236, 0.258632, 0.0, 0.0, 0.1562916, 0.0, 0.1174207, 0.6249252,
                                0.1013626, 0.1866982, 0.0, 0.1180514, 0.6154187, 0.07983181, 0.1351602, 0.0, 0.1003735,
                                0.6743584, 0.0901079],
                     'grads': [[0.2853727, 0.2721305, -0.02639386, 0.1807501, 0.3786398, 0.4512929, -0.00257415,
                                0.2363823, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.08937936, 0.02271435, 0.02193491,
                                -0.001260906, -0.1761919, -0.01894098, 0.03024075, -0.01655798],
                               [0.2008535, 0.1649622, 0.02474493, 0.1383372, 0.346275, 0.4817548, 0.1146157, 0.2739841,
                                0.05529436, 0.1698811, 0.03199952, 0.2099279, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                -0.1367191, 0.001965903, -0.009306427, -0.005447105, 0.0, 0.0, 0.0, 0.0, -0.03051247,
                                -0.01228013, 0.001946541, -0.005491108, -0.3454394, -0.1169478, 0.1047333, 0.1745791,
                                0.0481836, 0.04111324, 0.01982298, 0.005279183],
                               [-0.1654622, 0.1266375, 0.4217294, 0.3573627]]},
 'additive_noscale_key': {'output_shape': [None, 2, 2],
                          'weights': [],
                          'config': {'use_scale': False, 'dropout': 0.0, 'seed': None},
                          'y': [-0.02693576, -0.1196015, -0.2083383, -0.1313961],
                          'scores': [0.2545624, 0.3133999, 0.02386162, 0.4081759, 0.1964093, 0.4560778, 0.05357024,
                                     0.2939426],
                          'grads': [[-0.1172202, 0.008199394, 0.1506844, 0.03634935, 0.01089752, -0.02544601],
                                    [-0.3062095, -0.1324521, -0.4377538, -0.07113191, -0.03867441, 0.002669849,
                                     -0.4850365, -0.2213842],
                                    [0.2751928, 0.2023965, 0.2010135, 0.0747631, 0.1394654, 0.330511, -0.02554236,
                                     -0.02404237, -0.009432198, -0.4052844, -0.2987227, -0.3968539]]},
 'mha_self': {'output_shape': [None, 4, 6],
              'weights': [('kernel', (6, 2, 3)), ('bias', (2, 3)), ('kernel', (6, 2, 3)), ('bias', (2, 3)),
                          ('kernel', (6, 2, 3)), ('bias', (2, 3)), ('kernel', (2, 3, 6)), ('bias', (6,))],
              'config': {'num_heads': 2,
                         'key_dim': 3,
                         'value_dim': 3,
                         'dropout': 0.0,
                         'use_bias': True,
                         'output_shape': None,
                         'attention_axes': [1],
                         'seed': None},
              'y': [0.6992524, -0.333604, -1.195994, -1.447248, -0.9589787, 0.0193145, 0.6712083, -0.3690087, -1.220668,
                    -1.448583, -0.9362928, 0.05442923, 0.5477508, -0.5777743, -1.408065, -1.518855, -0.8535312,
                    0.2479344, 0.660679, -0.3945675, -1.248196, -1.464014, -0.931742, 0.076637, 0.6500787, -0.3488443,
                    -1.169513, -1.392577, -0.9040544, 0.04642725, 0.5643445, -0.4996235, -1.308291, -1.448441,
                    -0.8484578, 0.185075, 0.5902549, -0.4631784, -1.279934, -1.442662, -0.8682101, 0.1498847, 0.6580201,
                    -0.339161, -1.163036, -1.392616, -0.9105892, 0.03673556],
              'scores': [0.3045456, 0.1866408, 0.1978364, 0.3109772, 0.2975584, 0.2405816, 0.1889855, 0.2728745,
                         0.2212405, 0.4165754, 0.1939961, 0.168188, 0.2845807, 0.2361952, 0.2075441, 0.27168, 0.3371227,
                         0.1164001, 0.164673, 0.3818042, 0.3163437, 0.1726553, 0.186058, 0.324943, 0.1680683, 0.4580574,
                         0.2404915, 0.1333829, 0.3012781, 0.1852205, 0.2024531, 0.3110484, 0.240216, 0.1758241,
                         0.2948073, 0.2891526, 0.345702, 0.2245838, 0.1388145, 0.2908997, 0.2995565, 0.2254364,
                         0.1921414, 0.2828657, 0.2233169, 0.1723101, 0.3242134, 0.2801597, 0.182494, 0.1316059,
                         0.4112554, 0.2746447, 0.324556, 0.2898424, 0.1373352, 0.2482665, 0.2809522, 0.2494035,
                         0.2069045, 0.2627399, 0.1643068, 0.1182358, 0.4517003, 0.2657571],
              'grads': [[-0.3653767, 0.3160173, 0.1627308, -0.4203684, 0.1068302, 0.3518636, -0.08913843, 0.1371967,
                         0.001161084, -0.1379413, 0.08729371, 0.08196426, 0.4897777, -0.4815133, -0.1810076, 0.5975844,
                         -0.2021931, -0.4679281, -0.2442984, 0.1771712, 0.1306875, -0.2609745, 0.03666229, 0.2374648,
                         -0.2335974, 0.282402, 0.05250727, -0.3160723, 0.1501739, 0.2197734, 0.3043038, -0.2676754,
                         -0.1326572, 0.3527417, -0.09353831, -0.2927603, 0.06665228, -0.1177747, 0.008870669, 0.1120864,
                         -0.08074602, -0.06030806, -0.2747198, 0.299807, 0.08246876, -0.35269, 0.1436936, 0.2605466],
                        [0.7518146, -1.009183, -0.1046767, 1.076307, -0.5855044, -0.7008522, -0.6907849, 1.196456,
                         -0.07644197, -1.147438, 0.8122358, 0.6265919, -0.4779657, 0.1368525, 0.3902091, -0.3870739,
                         -0.1419981, 0.4781301, 0.872283, -1.172068, -0.1206948, 1.249463, -0.6805229, -0.8130784,
                         -0.4253421, 0.2221857, 0.2828656, -0.4035732, -0.02407454, 0.4190109, -0.9770504, 0.3542505,
                         0.7498875, -0.8351156, -0.2143701, 0.9725802, 1.262119, -1.599595, -0.2363794, 1.751173,
                         -0.8865595, -1.182667, 0.1635917, -0.6049819, 0.2243526, 0.461116, -0.520043, -0.1276386],
                        [1.547936, 0.4955056, -0.8101211, 1.815517, 1.783053, 0.8394741, 1.891238, 0.6562244,
                         -0.9141105, 1.847224, 1.865106, 0.929945, 1.268144, 0.4816219, -0.5510026, 0.9350271, 0.994117,
                         0.5452273, -0.002952844, 0.0609175, 0.09365983, -0.4549558, -0.3848517, -0.1180937, -1.272541,
                         -0.3909149, 0.6904634, -1.612463, -1.567167, -0.7210705, -1.891879, -0.6429953, 0.93445,
                         -1.946025, -1.948682, -0.9555906],
                        [0.4478445, 0.1638726, -0.2038361, 0.4228234, 0.4537783, 0.2528591],
                        [-1.884944, -1.001855, 0.3931669, -1.424635, -1.842483, -1.318849, -1.707314, -0.9925872,
                         0.229337, -1.279992, -1.862832, -1.493791, -0.6572706, -0.4761214, -0.0516808, -0.4812919,
                         -0.9313005, -0.9054276, 0.7286282, 0.2836357, -0.3062904, 0.5633415, 0.4761124, 0.1455968,
                         1.742208, 0.8984591, -0.40439, 1.320116, 1.640239, 1.122223, 1.865545, 1.054183, -0.2958521,
                         1.402329, 1.966226, 1.52541],
                        [8.940697e-08, 1.341105e-07, 7.450581e-08, 2.235174e-08, -8.940697e-08, 1.043081e-07],
                        [2.087667, -2.441231, -0.5222292, 4.893281, -1.883471, -3.685506, 1.901248, -2.163584,
                         -0.5138507, 4.478788, -1.812067, -3.316801, 0.7433184, -0.7803772, -0.2429018, 1.775699,
                         -0.8147234, -1.253258, -0.7944365, 1.001591, 0.1521664, -1.834747, 0.5989324, 1.450682,
                         -1.926246, 2.271761, 0.4694798, -4.507664, 1.706542, 3.413344, -2.073771, 2.381094, 0.5468957,
                         -4.877228, 1.942133, 3.631836],
                        [-2.993434, 3.884591, 0.5024423, -4.206782, 2.195155, 2.799139],
                        [1.212725, 1.400559, 0.8727272, -0.1010555, -1.0232, -1.422504, 0.5605204, 0.6132421, 0.3526058,
                         -0.08820693, -0.4839471, -0.6323974, -0.3781019, -0.4874325, -0.347692, -0.030286, 0.3025958,
                         0.4808555, -1.474681, -1.865414, -1.302948, -0.07469326, 1.191728, 1.849194, -1.483613,
                         -1.801071, -1.198208, 0.01692235, 1.223405, 1.804746, -0.7344395, -0.8164062, -0.4812011,
                         0.09989092, 0.62994, 0.8380989],
                        [-1.021207, -1.165017, -0.7135198, 0.1025757, 0.8662563, 1.187293]]},
 'mha_cross_key': {'output_shape': [None, 3, 5],
                   'weights': [('kernel', (4, 3, 2)), ('bias', (3, 2)), ('kernel', (3, 3, 2)), ('bias', (3, 2)),
                               ('kernel', (6, 3, 4)), ('bias', (3, 4)), ('kernel', (3, 4, 5)), ('bias', (5,))],
                   'config': {'num_heads': 3,
                              'key_dim': 2,
                              'value_dim': 4,
                              'dropout': 0.0,
                              'use_bias': True,
                              'output_shape': [5],
                              'attention_axes': [1],
                              'seed': None},
                   'y': [0.831369, -0.2408502, -1.189998, -1.531075, -1.089793, 0.79869, -0.1759669, -1.060707,
                         -1.403441, -1.029037, 0.8288068, -0.2355128, -1.179489, -1.520763, -1.084949, 0.8177596,
                         -0.425315, -1.45106, -1.735333, -1.132877, 0.8076264, -0.4279591, -1.444864, -1.723464,
                         -1.121398, 0.8135736, -0.4514434, -1.485779, -1.760903, -1.136231],
                   'scores': [0.1962856, 0.2020368, 0.2023753, 0.1962311, 0.2030713, 0.04103638, 0.3943396, 0.08508569,
                              0.05290507, 0.4266332, 0.1597677, 0.2386207, 0.1915033, 0.1656969, 0.2444114, 0.1835094,
                              0.2055203, 0.2174601, 0.1818008, 0.2117093, 0.3763886, 0.08637197, 0.02712547, 0.4559949,
                              0.05411896, 0.1935052, 0.2058184, 0.1994853, 0.1945097, 0.2066814, 0.1907226, 0.206797,
                              0.2023596, 0.1914091, 0.2087116, 0.06992496, 0.348717, 0.1251346, 0.08286372, 0.3733597,
                              0.1556329, 0.2398363, 0.1958255, 0.1609484, 0.2477569, 0.1070707, 0.1294817, 0.5042319,
                              0.08548005, 0.1737357, 0.1634144, 0.1611438, 0.3451546, 0.1440429, 0.1862443, 0.1347428,
                              0.1589369, 0.3956708, 0.1158479, 0.1948016, 0.04589627, 0.43938, 0.04163674, 0.06781131,
                              0.4052756, 0.1668455, 0.2403745, 0.1765895, 0.1755899, 0.2406006, 0.06695525, 0.4037896,
                              0.06057594, 0.09167691, 0.3770023, 0.1417869, 0.1556605, 0.3919333, 0.1216755, 0.1889438,
                              0.1733751, 0.1569114, 0.3380432, 0.1526762, 0.1789941, 0.1609949, 0.1797404, 0.3088581,
                              0.1471853, 0.2032212],
                   'grads': [[-0.01433394, -0.009765096, 0.0205958, -0.003441944, 0.05894369, 0.03113848, -0.07891123,
                              0.01946331, -0.003246509, -0.1670753, 0.1103835, 0.09629196, 0.4823571, -0.1652863,
                              -0.3763673, 0.4066316, -0.4556046, 0.212743, 0.3191833, -0.4174191, 0.2848979,
                              -0.07389532, -0.2375126, 0.2262001],
                             [0.03768712, 0.006691456, -0.0483188, 0.0700773, -0.06301993, 0.03004876, 0.1189147,
                              -0.2197287, 0.2301901, -0.1459971, 0.001769967, 0.143185, 0.07774949, -0.1653025,
                              0.1848834, -0.1284395, 0.01918146, 0.09796417, 0.02712655, 0.04318294, -0.09573561,
                              0.1089217, -0.0773192, 0.01392287, 0.1275949, -0.244474, 0.2608253, -0.1699249,
                              0.009151287, 0.1553854, 0.02479704, -0.0348435, 0.03056228, -0.01371383, -0.008773774,
                              0.02765359, -0.6133046, 0.6766325, -0.4617285, 0.0569613, 0.3712285, -0.6467685,
                              -0.2026029, 0.2990235, -0.2724854, 0.1339008, 0.05974367, -0.2288216, 0.004256845,
                              -0.01594064, 0.02106963, -0.01753477, 0.00678961, 0.006747469, -0.5883982, 0.6565409,
                              -0.4547134, 0.06590724, 0.35, -0.6219869],
                             [0.04379286, -0.04947601, -0.01206639, -0.06718924, 0.03069589, 0.04750552, -0.01398342,
                              0.02323465, -0.0009157658, 0.0492562, -0.05286087, -0.0153592, -0.01187646, 0.04840624,
                              -0.01916401, -0.0006612181, 0.08810931, -0.05583884, 0.1342084, -0.1463493, -0.04036193,
                              0.02105663, -0.2817572, 0.15962, 0.02173982, 0.02021809, -0.03470466, -0.1763436,
                              0.319779, -0.02871451],
                             [-0.3476096, -0.1239524, -0.02529627, -0.02299957, 0.3302042, 0.4172875, -0.4468756,
                              -0.2462791, -0.009604117, 0.07066893, 0.2804016, 0.3061501, -0.3177944, -0.2427608,
                              0.01099562, 0.1282266, 0.08731778, 0.03857441, -0.02632494, -0.1151951, 0.02597675,
                              0.1202623, -0.1503842, -0.2487123],
                             [0.04230866, 0.1207072, -0.05530274, -0.04775407, -0.1821466, -0.02813605],
                             [-0.02648326, 0.06267624, -0.09229179, -0.04284379, 0.04072962, -0.2766171, -0.01543834,
                              -0.02710668, -0.06860093, -0.03658857, 0.03362796, -0.16339, 0.003495354, -0.1030385,
                              -0.009855986, -0.01163713, 0.009342906, 0.03332709],
                             [4.121102e-08, 1.25845e-07, 4.097819e-08, 1.816079e-08, -8.789357e-09, -9.313226e-08],
                             [0.3986495, -0.9750847, 1.300096, -1.289881, -2.338502, 2.368538, -1.787852, 0.7461721,
                              -0.9233642, 0.8982797, -0.6415756, 0.2194427, 0.6489083, -0.9663821, 1.034676, -0.8361814,
                              -1.536238, 1.235863, -0.6168236, -0.1612628, -0.691961, 0.6741748, -0.482554, 0.1665079,
                              0.5675842, -0.4638722, 0.2405514, 0.04479464, 0.05102092, -0.52832, 0.8693929, -0.9862947,
                              -0.1069756, 0.1055763, -0.07695437, 0.02848994, 0.1962328, 0.2756698, -0.6764917,
                              0.9028812, 1.612209, -2.022539, 1.911362, -1.307344, 0.5326727, -0.5169701, 0.3679679,
                              -0.124086, -0.2753909, 0.8743486, -1.247857, 1.299608, 2.349582, -2.48327, 1.976653,
                              -0.9603595, 0.9001329, -0.8753523, 0.624864, -0.2132557, -0.6062937, 1.026248, -1.181586,
                              1.032254, 1.886352, -1.675085, 1.031902, -0.1226448, 0.8076382, -0.786442, 0.5624634,
                              -0.1934549],
                             [-1.731902, 2.564565, -2.735961, 2.201895, -1.100075, -0.2853967, 1.59728, -2.497308,
                              2.753409, -2.299551, 1.252757, 0.1170563],
                             [0.7699511, 0.8240908, 0.4571318, -0.143415, -0.6706787, 0.4706556, 0.6015276, 0.4250277,
                              0.03134469, -0.378355, -0.06913808, 0.0715926, 0.1757405, 0.1900875, 0.1073025,
                              -0.5736033, -0.4949253, -0.1633475, 0.2516984, 0.5381301, -1.088937, -1.083332,
                              -0.5241598, 0.3028504, 0.9751084, -0.961529, -0.6993015, -0.07974085, 0.5805662,
                              0.9442123, -0.3427938, 0.04206204, 0.4054248, 0.5616213, 0.4308373, 0.4511042, 0.7619324,
                              0.683424, 0.2556957, -0.3026893, 0.785026, 0.8627571, 0.4996316, -0.1187984, -0.6765242,
                              0.7470636, 0.8413113, 0.5056611, -0.08837472, -0.6372523, 0.3273625, 0.3899677, 0.2533049,
                              -0.0127931, -0.2723539, -0.2596162, -0.260644, -0.1284865, 0.06932578, 0.2317136],
                             [-0.9231892, -0.9973317, -0.561852, 0.1607261, 0.8011754]]},
 'mha_nobias_output_shape': {'output_shape': [None, 3, 2, 3],
                             'weights': [('kernel', (4, 2, 2)), ('kernel', (4, 2, 2)), ('kernel', (4, 2, 2)),
                                         ('kernel', (2, 2, 2, 3))],
                             'config': {'num_heads': 2,
                                        'key_dim': 2,
                                        'value_dim': 2,
                                        'dropout': 0.0,
                                        'use_bias': False,
                                        'output_shape': [2, 3],
                                        'attention_axes': [1],
                                        'seed': None},
                             'y': [-0.03757939, 0.04413756, 0.1033008, 0.1096789, 0.06001256, -0.02031931, -0.04981985,
                                   0.03073278, 0.0955814, 0.1115893, 0.07057665, -0.006499648, -0.03833307, 0.04308235,
                                   0.1024833, 0.1095167, 0.0605887, -0.01929929],
                             'scores': [0.5633019, 0.4366981, 0.4401937, 0.5598063, 0.5535049, 0.4464951, 0.5127397,
                                        0.4872604, 0.4885908, 0.5114092, 0.5095406, 0.4904594],
                             'grads': [[-0.02888726, 0.02699224, -0.02382427, 0.01953274, 0.0081752, -0.004336436,
                                        0.0002931657, 0.00376393, 0.02376701, -0.02434, 0.02376512, -0.02206947],
                                       [0.3784947, -0.3355286, 0.2767389, -0.2048982, 0.515505, -0.5718333, 0.6011938,
                                        -0.6022021],
                                       [-0.006918847, -0.009440664, 0.02902809, 0.004833288, -0.0008366751,
                                        -0.001141631, 0.01677779, 0.002793567, 0.005673025, 0.007740761, -0.004045721,
                                        -0.0006736281, 0.00928389, 0.01266774, -0.02280192, -0.003796608],
                                       [0.04987225, 0.05195939, -0.07814503, 0.04204904, 0.09148392, 0.09531251,
                                        -0.1433465, 0.07713331, 0.08634862, 0.08996229, -0.1353, 0.07280355, 0.03709041,
                                        0.03864263, -0.05811711, 0.03127223],
                                       [0.03359512, -0.1727092, -0.02762461, -0.007847622, 0.06126247, -0.4298892,
                                        0.0222005, 0.05195148, 0.05762556, -0.4674019, 0.06068145, 0.08520409,
                                        0.02454282, -0.266079, 0.06815507, 0.07491867],
                                       [0.01253484, -0.007001489, -0.02296013, -0.02718649, -0.01752095, 0.001097552,
                                        0.01396027, -0.005554743, -0.02223136, -0.02754807, -0.01878811, -0.0004276931,
                                        -0.0004205117, 0.00102691, 0.001949593, 0.001876064, 0.0008438928,
                                        -0.0006194972, -0.01150655, 0.006268285, 0.02084011, 0.02476293, 0.01603226,
                                        -0.0008906722]]},
 'mha_masks': {'output_shape': [None, 4, 5],
               'weights': [('kernel', (5, 2, 3)), ('bias', (2, 3)), ('kernel', (5, 2, 3)), ('bias', (2, 3)),
                           ('kernel', (5, 2, 3)), ('bias', (2, 3)), ('kernel', (2, 3, 5)), ('bias', (5,))],
               'config': {'num_heads': 2,
                          'key_dim': 3,
                          'value_dim': 3,
                          'dropout': 0.0,
                          'use_bias': True,
                          'output_shape': None,
                          'attention_axes': [1],
                          'seed': None},
               'y': [0.8248611, 0.08855754, -0.6929978, -1.120441, -0.975355, 0.8277327, 0.08356449, -0.703304,
                     -1.130794, -0.9804648, 0.8243184, 0.09520945, -0.6825502, -1.111537, -0.9725435, 0.7855117,
                     0.1716679, -0.5298957, -0.9606901, -0.9005857, 0.8145884, -0.01142702, -0.8316035, -1.226842,
                     -0.9951825, 0.7855117, 0.1716679, -0.5298957, -0.9606901, -0.9005857, 0.8145884, -0.01142702,
                     -0.8316035, -1.226842, -0.9951825, 0.8145884, -0.01142702, -0.8316035, -1.226842, -0.9951825],
               'scores': [0.4048047, 0.5951952, 0.0, 0.3629559, 0.6370441, 0.0, 0.445229, 0.5547709, 0.0, 0.0, 0.0, 0.0,
                          0.4673272, 0.5326728, 0.0, 0.4405982, 0.5594018, 0.0, 0.5042391, 0.4957609, 0.0, 0.0, 0.0,
                          0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0,
                          0.0, 1.0, 0.0, 0.0, 1.0, 0.0],
               'grads': [[-0.03109627, 0.0488597, -0.0002349801, -0.04870902, 0.03146962, -0.007925879, -0.04741798,
                          0.03833263, 0.0228372, -0.05297697, 0.05322, 0.03523599, -0.07581507, 0.01338037, 0.0672349,
                          0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                          0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                         [0.1493071, -0.02422124, -0.1337754, 0.1100046, 0.06323493, 0.1624577, -0.02126125, -0.148824,
                          0.1166946, 0.07399365, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.031199, -0.7955005,
                          -1.521085, 1.770896, 0.3854992, 0.0, 0.0, 0.0, 0.0, 0.0],
                         [0.006219887, 0.00747851, -0.01101548, -0.000414838, 0.01128149, -0.006219885, -0.007478484,
                          0.01101546, 0.0004148238, -0.01128147, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                          0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                         [0.09227148, 0.07715612, 0.02261506, 0.03987351, 0.08011052, 0.07941216, -0.01395912,
                          -0.01167242, -0.003421278, 0.004180371, 0.00839885, 0.008325635, -0.1130568, -0.09453652,
                          -0.02770939, -0.03364888, -0.06760451, -0.06701518, -0.1543841, -0.1290938, -0.03783841,
                          -0.05428404, -0.1090629, -0.1081122, -0.1168233, -0.09768601, -0.02863253, -0.04718082,
                          -0.09479176, -0.09396543],
                         [0.0497998, 0.0416419, 0.01220558, 0.01655543, 0.03326179, 0.03297183],
                         [-0.01309786, 0.002127785, 0.01626617, -0.01479058, -0.009094254, 0.001249112, 0.0160736,
                          -0.002611197, -0.01996172, 0.0181509, 0.0111604, -0.001532903, 0.03703168, -0.006015895,
                          -0.04598945, 0.04181753, 0.02571226, -0.003531626, 0.0390671, -0.006346557, -0.04851724,
                          0.04411601, 0.02712551, -0.00372574, 0.02113979, -0.003434219, -0.02625341, 0.02387183,
                          0.01467802, -0.002016053],
                         [-7.450581e-09, -1.117587e-08, -1.117587e-08, -1.862645e-09, -9.313226e-10, 1.862645e-09],
                         [-1.40949, 1.312944, -0.8778571, 0.09319064, 0.6035764, -1.144712, 0.8664168, -0.7437134,
                          0.4292448, -0.1591212, -0.292843, 0.6692983, 2.699597, -2.420344, 1.517009, -0.3301244,
                          -1.039624, 2.141307, 3.153322, -2.860213, 1.829603, -0.3324388, -1.255172, 2.519139, 1.995745,
                          -1.838554, 1.207296, -0.1648816, -0.8293449, 1.609726],
                         [3.05651, -1.479111, -0.4796748, 2.314777, -3.553019, 3.875122],
                         [0.2704731, -1.181505, -2.029751, -1.840823, -0.711261, 0.2417425, -0.7545043, -1.36521,
                          -1.278313, -0.5382165, 0.08948497, 0.05803711, -0.003066882, -0.06260374, -0.090151,
                          -0.09576929, 0.8480143, 1.358475, 1.174774, 0.3907805, -0.2399963, 1.200261, 2.027203,
                          1.818273, 0.6802311, -0.2615888, 0.9391919, 1.660059, 1.53266, 0.6220933],
                         [-0.9146611, -0.6520242, -0.05621222, 0.5683234, 0.9024539]]},
 'mha_causal_attention_mask': {'output_shape': [None, 4, 3],
                               'weights': [('kernel', (3, 2, 2)), ('bias', (2, 2)), ('kernel', (3, 2, 2)),
                                           ('bias', (2, 2)), ('kernel', (3, 2, 2)), ('bias', (2, 2)),
                                           ('kernel', (2, 2, 3)), ('bias', (3,))],
                               'config': {'num_heads': 2,
                                          'key_dim': 2,
                                          'value_dim': 2,
                                          'dropout': 0.0,
                                          'use_bias': True,
                                          'output_shape': None,
                                          'attention_axes': [1],
                                          'seed': None},
                               'y': [0.3499642, -0.008747816, -0.36299, 0.5269293, 0.1365105, -0.3236633, 0.4828302,
                                     0.06840414, -0.3809755, 0.4323257, 0.0683639, -0.3305308, 0.6029534, 0.08380601,
                                     -0.4781651, 0.6029534, 0.08380601, -0.4781651, 0.4607997, 0.08106583, -0.3400916,
                                     0.6065139, 0.08378693, -0.4817539],
                               'scores': [1.0, 0.0, 0.0, 0.0, 0.3003362, 0.6996639, 0.0, 0.0, 0.4494282, 0.5505718, 0.0,
                                          0.0, 0.2152444, 0.3191536, 0.2399414, 0.2256605, 1.0, 0.0, 0.0, 0.0,
                                          0.5027344, 0.4972656, 0.0, 0.0, 0.5186547, 0.4813453, 0.0, 0.0, 0.2890473,
                                          0.2544304, 0.1357893, 0.3207329, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0,
                                          0.4310999, 0.2790894, 0.2898106, 0.0, 0.497665, 0.0, 0.0, 0.502335, 1.0, 0.0,
                                          0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.3137945, 0.2025247, 0.4836808, 0.0, 0.5208238,
                                          0.0, 0.0, 0.4791762],
                               'grads': [[0.0, 0.0, 0.0, -0.1377894, 0.1507135, -0.15653, 0.04679494, -0.05288563,
                                          0.05648223, 0.07666844, -0.07711213, 0.07391921, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                          0.05339522, -0.04594257, 0.03632327, -2.782814e-05, -8.899587e-05,
                                          0.0002016228],
                                         [-0.4752272, 0.5757263, -0.6490743, 0.2772076, -0.3372856, 0.3814571,
                                          0.003071085, 0.03610615, -0.07358065, -0.06734696, 0.05846146, -0.04681883,
                                          0.2291361, -0.2542273, 0.2673293, 0.05096531, -0.02133085, -0.009309597,
                                          -0.2243263, 0.1970761, -0.1605318, 0.08901954, -0.1253979, 0.1558626],
                                         [0.1327815, 0.1254519, -0.04441578, 0.03156934, 0.1407444, 0.1135295,
                                          -0.0311825, 0.08348802, 0.07678887, 0.04359513, -0.002015413, 0.09274552],
                                         [-0.004404061, 0.02433765, -0.02808475, -0.05528641],
                                         [-0.04860798, -0.1343327, 0.1673458, 0.1000592, -0.1361662, -0.1431157,
                                          0.2038062, 0.05533924, -0.1541453, -0.07876852, 0.1361246, -0.01765828],
                                         [-8.149073e-09, -6.472692e-08, 7.834751e-08, 4.062895e-08],
                                         [0.9130986, 0.08900015, -1.515036, 1.385971, 3.359795, 0.3975268, -4.138073,
                                          4.038463, 4.089684, 0.502923, -4.646615, 4.627357],
                                         [0.7333659, -0.6256765, -0.004042864, 0.6303895],
                                         [1.153688, 0.5921392, -0.2719847, 0.4365481, 0.05119056, -0.3603247,
                                          -0.6570192, -0.5660973, -0.1859078, -1.325997, -0.8272122, 0.09426668],
                                         [-0.238756, 0.2492884, 0.6099501]]},
 'mha_rank4': {'output_shape': [None, 2, 3, 4],
               'weights': [('kernel', (4, 2, 2)), ('bias', (2, 2)), ('kernel', (4, 2, 2)), ('bias', (2, 2)),
                           ('kernel', (4, 2, 2)), ('bias', (2, 2)), ('kernel', (2, 2, 4)), ('bias', (4,))],
               'config': {'num_heads': 2,
                          'key_dim': 2,
                          'value_dim': 2,
                          'dropout': 0.0,
                          'use_bias': True,
                          'output_shape': None,
                          'attention_axes': [1, 2],
                          'seed': None},
               'y': [0.7366257, -0.5210711, -1.512508, -1.731075, 0.7640202, -0.4460472, -1.428191, -1.680549, 0.739011,
                     -0.5151816, -1.506124, -1.727458, 0.7606094, -0.4548234, -1.437848, -1.686153, 0.7436388,
                     -0.5030804, -1.492733, -1.71962, 0.7553339, -0.4688321, -1.453432, -1.695348],
               'scores': [0.2535059, 0.2438488, 0.2089618, 0.2936834, 0.2294262, 0.2270409, 0.4141398, 0.1293931,
                          0.254296, 0.2447515, 0.2226065, 0.2783459, 0.2354979, 0.2326083, 0.3868556, 0.1450381,
                          0.2543297, 0.245548, 0.2520166, 0.2481058, 0.2434984, 0.2395047, 0.3450413, 0.1719557,
                          0.2764556, 0.2232882, 0.2206404, 0.2796159, 0.2830905, 0.2182985, 0.241822, 0.2567889,
                          0.2783989, 0.2215491, 0.2210295, 0.2790225, 0.2809554, 0.2202143, 0.2404283, 0.258402,
                          0.2807289, 0.2196321, 0.2232686, 0.2763704, 0.2787191, 0.2221933, 0.2372777, 0.2618099],
               'grads': [[0.04582877, -0.04907364, 0.05000418, -0.04857654, -0.0602467, 0.06326003, -0.06329001,
                          0.06033524, 0.07898, -0.0817792, 0.0807217, -0.07585735, -0.08693938, 0.08922702, -0.08730673,
                          0.08126904, 0.0977689, -0.09961057, 0.09675459, -0.08933567, -0.09836434, 0.09952296,
                          -0.09598807, 0.0879264],
                         [-0.01108772, 0.01501684, -0.01823775, 0.02059858, 0.1379965, -0.1565053, 0.1676333,
                          -0.1708557, 0.9911218, -1.144897, 1.244678, -1.285761, -0.4478123, 0.5095609, -0.5472786,
                          0.5591866],
                         [0.269515, 0.183845, 0.01722174, -0.005212991, 0.2541526, 0.1727734, 0.01783798, -0.01516964,
                          0.1089218, 0.07341707, 0.009339271, -0.01737482, -0.0919665, -0.0634543, -0.003931674,
                          -0.01070172],
                         [-0.01062616, -0.006805148, -0.00292507, 0.0123254],
                         [-0.003812246, -0.005261851, 0.03525738, -0.01149727, 0.2775905, 0.2710242, 0.1032302,
                          -0.01098473, 0.4171485, 0.4088208, 0.1184538, -0.004859155, 0.3435495, 0.3377158, 0.07314925,
                          0.00374938],
                         [2.980232e-08, 2.980232e-08, 5.215406e-08, -5.587935e-09],
                         [-0.2156991, 0.2150307, -0.1389879, 0.1455277, -1.098626, 0.9631077, -0.1762246, 0.1488074,
                          -1.420171, 1.21905, -0.1234132, 0.07604864, -1.016028, 0.8520759, -0.007539332, -0.03556986],
                         [0.61979, -0.8146868, 0.9711635, -1.08184],
                         [0.5932981, 0.2078925, -0.2837432, -0.6303901, 0.3262354, 0.0377987, -0.2699525, -0.4397619,
                          -0.01030488, -0.01899076, -0.01797264, -0.007770749, -0.3140937, -0.03134322, 0.2674232,
                          0.4295402],
                         [-0.4041471, 0.005046129, 0.4116609, 0.6079228]]}}
# --- end of generated ---
