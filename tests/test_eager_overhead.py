"""Behaviour kept by the eager fast paths of issue 18 (Layer.__call__, trainable_variables, the tape's walk,
dense, the optimizer's apply path): what they skip must never change a result or an error."""

import pytest

import pyautodiff as ad
from pyautodiff import regularizers as R
from pyautodiff.layers import base
from pyautodiff.ops import nn


class Stack(ad.Model):
    def __init__(self, layers):
        super().__init__()
        self.stack = layers

    def call(self, inputs, training=False):
        for layer in self.stack:
            inputs = layer(inputs, training=training)
        return inputs


def test_activity_penalties_start_anew_after_the_first_layer_that_keeps_one(monkeypatch):
    # no layer has kept a penalty yet: outermost calls skip the clearing walk until one does
    monkeypatch.setattr(base, "_penalized", False)
    plain = ad.layers.Dense(2, kernel_initializer="ones")
    plain(ad.ones((1, 3)))
    assert not base._penalized and plain.losses == []
    inner = ad.layers.Dense(2, kernel_initializer="ones", activity_regularizer=R.L1(1.0))
    model = Stack([ad.layers.Dense(3, kernel_initializer="ones"), inner])
    x = ad.ones((2, 3))
    model(x)
    assert base._penalized
    first = [t.item() for t in model.losses]
    assert first == [pytest.approx(2 * 2 * 9 / 2)]  # |9| in each of 2x2 outputs, over the batch of 2
    model(x)  # the model's outermost call clears its inner layer's penalty: they do not pile up
    assert [t.item() for t in model.losses] == first
    inner(ad.ones((1, 3)))  # an outermost call of the inner layer alone: its own penalty only
    assert [t.item() for t in inner.losses] == [pytest.approx(2 * 3)]


def test_layer_call_inputs_converted_and_cast():
    layer = ad.layers.Dense(2, kernel_initializer="ones", dtype="float64")
    out = layer([[1.0, 2.0]])  # nested lists become a tensor, then the layer's dtype
    assert out.dtype == "float64" and out.tolist() == [[3.0, 3.0]]
    out = layer(ad.array([[1.0, 2.0]], dtype="float32"))  # a tensor of another float dtype is cast
    assert out.dtype == "float64" and layer.output_shape == (None, 2)
    layer(ad.ones((5, 2), "float64"))
    assert layer.output_shape == (None, 2) and "output_shape" not in layer._tracked
    with pytest.raises(TypeError):
        layer("not a tensor")


def test_trainable_variables_follow_attribute_and_flag_changes():
    a, b = ad.layers.Dense(2), ad.layers.Dense(2)
    model = Stack([a, b])
    model(ad.ones((1, 3)))
    assert model.trainable_variables == [a.kernel, a.bias, b.kernel, b.bias]
    b.trainable = False
    assert model.trainable_variables == [a.kernel, a.bias]
    assert model.non_trainable_variables == [b.kernel, b.bias]
    extra = ad.Variable(ad.zeros((2,)))
    model.extra = extra
    model.stack = [a, a]  # the same layer twice: its weights once
    assert model.trainable_variables == [a.kernel, a.bias, extra]
    assert [p for p, _, _ in model._walk()] == ["stack.0.kernel", "stack.0.bias", "extra"]
    del model.__dict__["extra"], model._tracked["extra"]
    assert model.trainable_variables == [a.kernel, a.bias]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_target_seeds_with_one_of_its_dtype(dtype):
    x = ad.Variable(ad.array([1.0, 2.0], dtype=dtype))
    for _ in range(2):  # the shared seed is never changed by a walk
        with ad.GradientTape() as tape:
            y = ad.reduce_sum(ad.square(x))
        g = tape.gradient(y, x)
        assert g.dtype == dtype and g.tolist() == [2.0, 4.0]


def test_targets_given_as_structures_and_tensors():
    x = ad.Variable(ad.array([1.0, 2.0]))
    with ad.GradientTape(persistent=True) as tape:
        y = ad.square(x)
        z = ad.reduce_sum(x)
    assert tape.gradient(y, x).tolist() == [2.0, 4.0]  # a non-scalar target: seeded with ones
    assert tape.gradient([y, z], [x])[0].tolist() == [3.0, 5.0]
    assert tape.gradient({"a": z}, {"x": x})["x"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="target must be a tensor"):
        tape.gradient([y, 3], x)


def test_dense_dtype_checks():
    x32, k32, b32 = ad.ones((2, 3)), ad.ones((3, 4)), ad.ones((4,))
    with pytest.raises(TypeError, match="dtype mismatch"):
        nn.dense(x32, ad.cast(k32, "float64"))
    with pytest.raises(TypeError, match="dtype mismatch"):
        nn.dense(x32, k32, ad.cast(b32, "float64"))
    assert nn.dense(x32, k32, b32).tolist() == [[4.0] * 4] * 2
    y = nn.dense(x32, k32)
    with pytest.raises(ValueError, match="dense_grad"):
        nn.dense_grad(x32, k32, y, ad.cast(y, "float64"), nn.FUSED["linear"])
    gx, gw, db = nn.dense_grad(x32, k32, y, ad.ones_like(y), nn.FUSED["linear"])
    assert gx.tolist() == [[4.0] * 3] * 2 and gw.tolist() == [[2.0] * 4] * 3 and db.tolist() == [2.0] * 4


def test_variable_changed_after_use_still_refused():
    layer = ad.layers.Dense(2)
    x = ad.ones((1, 3))
    with ad.GradientTape() as tape:
        y = ad.reduce_sum(layer(x))
    layer.kernel.assign_add(ad.ones((3, 2)))
    with pytest.raises(RuntimeError, match="was modified"):
        tape.gradient(y, layer.trainable_variables)


def test_apply_gradients_checks_in_order_and_builds_slots_for_new_variables():
    opt = ad.optimizers.Adam(0.1)
    v, w = ad.Variable(ad.ones((2,))), ad.Variable(ad.ones((3,)))
    with pytest.raises(TypeError, match="can only update Variables"):  # before the shape mismatch of pair 0
        opt.apply_gradients([(ad.ones((5,)), v), (ad.ones((2,)), ad.ones((2,)))])
    with pytest.raises(ValueError, match="does not match"):
        opt.apply_gradients([(ad.ones((5,)), v)])
    opt.update([v, w], [ad.ones((2,)), None])  # a None gradient leaves its variable alone
    assert w.tolist() == [1.0] * 3 and opt.iterations == 1
    opt.update([v, w], [ad.ones((2,)), ad.ones((3,))])  # w gets its slots now
    assert opt.get_slot(w, "m").shape == (3,) and w.tolist()[0] < 1.0


def test_unpickled_layer_penalties_start_anew_in_a_process_that_kept_none(monkeypatch):
    import pickle
    inner = ad.layers.Dense(2, kernel_initializer="ones", activity_regularizer=R.L1(1.0))
    model = Stack([inner])
    model(ad.ones((1, 3)))
    data = pickle.dumps(model)
    monkeypatch.setattr(base, "_penalized", False)  # as in a fresh process
    copy = pickle.loads(data)
    assert base._penalized
    copy(ad.ones((1, 3)))
    assert [t.item() for t in copy.losses] == [pytest.approx(6.0)]
