"""Layers against numpy references and finite differences (float64); building, tracking, bad input."""

import pytest
from conftest import rand

import pyautodiff as ad

layers = ad.layers


def _np():
    return pytest.importorskip("numpy")


ACTS = {"linear": lambda np, z: z, "sigmoid": lambda np, z: 1 / (1 + np.exp(-z)), "tanh": lambda np, z: np.tanh(z),
        "relu": lambda np, z: np.maximum(z, 0),
        "softmax": lambda np, z: np.exp(z - z.max(-1, keepdims=True)) / np.exp(z - z.max(-1, keepdims=True)).sum(
            -1, keepdims=True)}


@pytest.mark.parametrize("activation", sorted(ACTS))
def test_dense_matches_numpy_and_finite_differences(gc, activation):
    np = _np()
    layer = layers.Dense(3, activation=activation, bias_initializer="ones", dtype="float64")
    x = rand((4, 5), seed=1)
    y = layer(x)
    assert layer.built and layer.kernel.shape == (5, 3) and layer.bias.shape == (3,)
    ref = ACTS[activation](np, x.numpy() @ layer.kernel.numpy() + layer.bias.numpy())
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    gc(lambda x_, k, b: ad.ops.nn.dense(x_, k, b, activation) if activation != "softmax" else
       ad.softmax(ad.ops.nn.dense(x_, k, b)), [x, layer.kernel.value(), layer.bias.value()])


def test_dense_gradients_through_the_layer_and_batched_inputs():
    np = _np()
    layer = layers.Dense(2, activation="tanh", dtype="float64")
    x = rand((2, 3, 4), seed=2)
    with ad.GradientTape() as tape:
        y = layer(x)
        loss = ad.reduce_sum(ad.square(y))
    assert y.shape == (2, 3, 2)
    gk, gb = tape.gradient(loss, [layer.kernel, layer.bias])
    xs, k, b = x.numpy().reshape(6, 4), layer.kernel.numpy(), layer.bias.numpy()
    t = np.tanh(xs @ k + b)
    dz = 2 * t * (1 - t * t)
    np.testing.assert_allclose(gk.numpy(), xs.T @ dz, rtol=1e-10)
    np.testing.assert_allclose(gb.numpy(), dz.sum(0), rtol=1e-10)


def test_dense_without_bias_and_eager_build():
    layer = layers.Dense(4, use_bias=False, input_shape=(3,))
    assert layer.built and layer.bias is None and [v.name for v in layer.weights] == [f"{layer.name}/kernel"]
    assert layer(ad.ones((2, 3))).shape == (2, 4)
    assert layer.output_shape == (None, 4) and layer.count_params() == 12


def test_dense_rejects_a_wrong_input_width():
    layer = layers.Dense(4, name="hidden")
    layer(ad.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Dense 'hidden': expected inputs with last dimension 3, got shape \(2, 5\)"):
        layer(ad.ones((2, 5)))
    with pytest.raises(ValueError, match="units must be a positive int"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        layers.Dense(2, activation="swishy")


def test_initializers_are_seeded_and_scaled():
    init = ad.initializers
    a, b = init.GlorotUniform(seed=3)((100, 50)), init.GlorotUniform(seed=3)((100, 50))
    assert a.tolist() == b.tolist()
    limit = (6 / 150) ** 0.5
    assert float(ad.reduce_max(ad.abs(a))) <= limit and float(ad.reduce_max(ad.abs(a))) > 0.9 * limit
    h = init.HeNormal(seed=4)((400, 100), "float64")
    std = float(ad.sqrt(ad.reduce_mean(ad.square(h))))
    assert abs(std - (2 / 400) ** 0.5) < 0.05 * (2 / 400) ** 0.5
    assert init.get("zeros")((2,)).tolist() == [0, 0] and init.get("ones")((2,)).tolist() == [1, 1]
    assert init.GlorotUniform()((3,)).tolist() != init.GlorotUniform()((3,)).tolist()


def test_activation_and_flatten():
    x = ad.array([[[-1.0, 2.0], [3.0, -4.0]]])
    assert layers.Activation("relu")(x).tolist() == [[[0, 2], [3, 0]]]
    flat = layers.Flatten()
    assert flat(x).shape == (1, 4) and flat.compute_output_shape((None, 2, 2)) == (None, 4)


def test_dropout_masks_only_while_training():
    x = ad.ones((200, 50))
    layer = layers.Dropout(0.25, seed=5)
    assert layer(x) is x and layer(x, training=False) is x
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        total = ad.reduce_sum(y)
    assert set(ad.reshape(y, (-1,)).tolist()) == {0.0, ad.array(1 / 0.75, "float32").item()}
    kept = float(ad.reduce_mean(ad.cast(ad.greater(y, 0.0), "float32")))
    assert abs(kept - 0.75) < 0.02
    assert tape.gradient(total, x).tolist() == y.tolist()  # d/dx of x * mask is the mask
    again = layer(x, training=True)
    assert again.tolist() != y.tolist()  # fresh numbers each call
    assert layers.Dropout(0.25, seed=5)(x, training=True).tolist() == y.tolist()  # same seed, same stream
    with pytest.raises(ValueError, match="rate must lie in"):
        layers.Dropout(1.0)


def test_batch_normalization_training_and_inference():
    np = _np()
    x = rand((8, 3), seed=6, lo=-2, hi=3)
    bn = layers.BatchNormalization(momentum=0.9, dtype="float64")
    y = bn(x, training=True)
    xs = x.numpy()
    mean, var = xs.mean(0), xs.var(0)
    np.testing.assert_allclose(y.numpy(), (xs - mean) / np.sqrt(var + 1e-3), rtol=1e-10)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.1 * mean, rtol=1e-10)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-10)
    assert [v.name.split("/")[1] for v in bn.trainable_variables] == ["gamma", "beta"]
    assert [v.name.split("/")[1] for v in bn.non_trainable_variables] == ["moving_mean", "moving_variance"]
    inference = bn(x, training=False)
    np.testing.assert_allclose(inference.numpy(), (xs - 0.1 * mean) / np.sqrt(0.9 + 0.1 * var + 1e-3), rtol=1e-10)


def test_normalization_gradients_match_finite_differences(gc):
    bn = layers.BatchNormalization(dtype="float64")
    ln = layers.LayerNormalization(dtype="float64")
    x = rand((4, 3), seed=7)
    bn(x), ln(x)
    gc(lambda x_: ad.multiply(bn(x_, training=True), ad.array([1.0, -2.0, 0.5], "float64")), [x], rtol=1e-4)
    gc(lambda x_: ad.multiply(ln(x_), ad.array([1.0, -2.0, 0.5], "float64")), [x], rtol=1e-4)


def test_layer_normalization_matches_numpy():
    np = _np()
    x = rand((2, 3, 4), seed=8)
    ln = layers.LayerNormalization(epsilon=1e-5, dtype="float64")
    xs = x.numpy()
    ref = (xs - xs.mean(-1, keepdims=True)) / np.sqrt(xs.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x).numpy(), ref, rtol=1e-10)
    with pytest.raises(ValueError, match=r"LayerNormalization .*expected 4 features on axis -1, got inputs of "
                                         r"shape \(2, 5\)"):
        ln(ad.zeros((2, 5), "float64"))


def test_embedding_gathers_and_scatters_gradients():
    emb = layers.Embedding(5, 2, dtype="float64")
    ids = ad.array([[0, 3], [3, 4]])
    with ad.GradientTape() as tape:
        out = emb(ids)
        loss = ad.reduce_sum(out)
    table = emb.embeddings.tolist()
    assert out.shape == (2, 2, 2) and out.tolist()[1][0] == table[3]
    assert tape.gradient(loss, emb.embeddings).tolist() == [[1, 1], [0, 0], [0, 0], [2, 2], [1, 1]]
    with pytest.raises(ValueError, match=r"Embedding '.*': indices of shape \(1,\) must lie in \[0, 5\)"):
        emb(ad.array([5]))


def test_attribute_and_list_tracking():
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.parts = [layers.Dense(2), layers.Dense(3)]
            self.scale = ad.Variable(1.0, name="scale")

        def call(self, x, training=False):
            for p in self.parts:
                x = p(x)
            return x * self.scale

    block = Block()
    block(ad.ones((1, 4)))
    assert [p for p, _, _ in block._walk()] == ["parts.0.kernel", "parts.0.bias", "parts.1.kernel", "parts.1.bias",
                                                "scale"]
    assert block.layers == block.parts and len(block.trainable_variables) == 5
    block.parts[0].trainable = False
    assert len(block.trainable_variables) == 3 and len(block.weights) == 5


def test_subclass_must_call_super_init():
    class Broken(layers.Layer):
        def __init__(self):
            self.units = 3
            super().__init__()

    with pytest.raises(RuntimeError, match=r"Broken: call super\(\).__init__\(\) before assigning"):
        Broken()
