"""What the per-step fast paths must not change (issue 18, eager overhead): a layer's lists of weights are cached
between calls, and every change to what they hold must show at once."""

import copy
import pickle

import pytest

import pyautodiff as ad
from pyautodiff import layers


class Two(ad.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = layers.Dense(4, input_shape=(2,), activation="sigmoid")
        self.dense2 = layers.Dense(2, input_shape=(4,))

    def call(self, inputs, training=False):
        return self.dense2(self.dense1(inputs, training=training), training=training)


def names(variables):
    return [v.name for v in variables]


def ids(variables):
    return [id(v) for v in variables]


def test_layer_trainable_flip_shows_at_once():
    model = Two()
    all4 = names(model.trainable_variables)
    assert len(all4) == 4 and names(model.trainable_variables) == all4  # (the second read is the cached one)
    model.dense1.trainable = False
    assert names(model.trainable_variables) == all4[2:]
    assert names(model.non_trainable_variables) == all4[:2]
    assert names(model.weights) == all4
    model.dense1.trainable = True
    assert names(model.trainable_variables) == all4
    assert model.non_trainable_variables == []
    model.trainable = False
    assert model.trainable_variables == [] and names(model.non_trainable_variables) == all4


def test_variable_trainable_flip_shows_at_once():
    model = Two()
    before = model.trainable_variables
    model.dense2.bias.trainable = False
    assert ids(model.trainable_variables) == ids(before[:3])
    assert ids(model.non_trainable_variables) == [id(before[3])]
    model.dense2.bias.trainable = True
    assert ids(model.trainable_variables) == ids(before)


def test_the_returned_list_is_a_new_one_each_time():
    model = Two()
    first = model.trainable_variables
    first.append("junk")
    first.pop(0)
    second = model.trainable_variables
    assert len(second) == 4 and second is not model.trainable_variables
    assert ids(second) == ids(model.weights)


def test_layers_and_weights_added_after_a_walk():
    model = Two()
    assert len(model.trainable_variables) == 4
    model.head = layers.Dense(3)  # not built yet: no weights
    assert len(model.trainable_variables) == 4
    model.head(ad.ones((1, 2)))  # built by its first call (add_weight)
    assert names(model.trainable_variables)[4:] == [model.head.kernel.name, model.head.bias.name]
    model.extra = ad.Variable([1.0, 2.0])
    assert model.trainable_variables[-1] is model.extra
    model.extra = ad.Variable([3.0])  # replaced: the new one, not the old
    assert model.trainable_variables[-1] is model.extra and len(model.trainable_variables) == 7
    model.head = None  # untracked again
    assert len(model.trainable_variables) == 5


def test_lists_of_layers_changed_in_place():
    class Stack(ad.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [layers.Dense(3, input_shape=(2,))]

        def call(self, inputs, training=False):
            for block in self.blocks:
                inputs = block(inputs)
            return inputs

    model = Stack()
    assert len(model.trainable_variables) == 2
    model.blocks.append(layers.Dense(5, input_shape=(3,)))
    assert len(model.trainable_variables) == 4
    assert model(ad.ones((1, 2))).shape == (1, 5)
    replacement = layers.Dense(3, input_shape=(2,))
    model.blocks[0] = replacement
    assert model.trainable_variables[0] is replacement.kernel
    model.blocks.pop()
    assert ids(model.trainable_variables) == [id(replacement.kernel), id(replacement.bias)]
    model.blocks.clear()
    assert model.trainable_variables == []
    model.blocks.extend([replacement, replacement])  # the same layer twice: its weights once
    assert len(model.trainable_variables) == 2


def test_sequential_add_after_a_walk():
    model = ad.Sequential([layers.Dense(3, input_shape=(2,))])
    assert len(model.trainable_variables) == 2
    model.add(layers.Dense(4))
    assert len(model.trainable_variables) == 4
    unbuilt = ad.Sequential([layers.Dense(3)])
    assert unbuilt.trainable_variables == []
    unbuilt.add(layers.Dense(1))
    unbuilt(ad.ones((2, 5)))
    assert [v.shape for v in unbuilt.trainable_variables] == [(5, 3), (3,), (3, 1), (1,)]


def test_nested_models_see_changes_inside():
    inner = Two()
    outer = ad.Sequential([inner, layers.Dense(1, input_shape=(2,))])
    assert len(outer.trainable_variables) == 6
    inner.dense2.trainable = False
    assert len(outer.trainable_variables) == 4 and len(inner.trainable_variables) == 2
    inner.dense1.kernel.trainable = False
    assert len(outer.trainable_variables) == 3
    inner.more = layers.Dense(2, input_shape=(2,))
    assert len(outer.trainable_variables) == 5 and len(outer.weights) == 8


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))])
def test_copies_walk_their_own_weights(clone):
    model = Two()
    original = model.trainable_variables
    twin = clone(model)
    copied = twin.trainable_variables
    assert len(copied) == 4 and not set(ids(copied)) & set(ids(original))
    assert ids(copied) == ids([twin.dense1.kernel, twin.dense1.bias, twin.dense2.kernel, twin.dense2.bias])
    twin.dense1.trainable = False
    assert len(twin.trainable_variables) == 2 and len(model.trainable_variables) == 4


def test_seed_loop_trains_through_a_flip():
    """The seed's loop, with a layer frozen halfway: the frozen weights stop moving, the others go on."""
    model = Two()
    loss_fn = ad.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = ad.optimizers.Adam(0.01)
    x = ad.array([[1, 3], [1, 4], [2, 4], [3, 1], [4, 1], [4, 2]], dtype="float32")
    y = ad.array([0, 0, 0, 1, 1, 1])

    def step():
        with ad.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        params = model.trainable_variables
        optimizer.update(params, tape.gradient(loss, params))
        return float(loss)

    first = [step() for _ in range(20)]
    model.dense1.trainable = False
    frozen = model.dense1.kernel.tolist()
    moving = model.dense2.kernel.tolist()
    later = [step() for _ in range(20)]
    assert model.dense1.kernel.tolist() == frozen and model.dense2.kernel.tolist() != moving
    assert later[-1] < first[0]


def test_stale_gradient_names_the_variable_that_changed():
    layer = layers.Dense(2)
    x = ad.ones((1, 3))
    with ad.GradientTape(persistent=True) as tape:
        y = ad.reduce_sum(layer(x))
    assert [g.shape for g in tape.gradient(y, layer.trainable_variables)] == [(3, 2), (2,)]
    layer.bias.assign_add(ad.ones((2,)))  # the second Variable input of the dense node
    with pytest.raises(RuntimeError, match=r"variable '.*/bias' .* was modified"):
        tape.gradient(y, layer.trainable_variables)


def test_dense_backward_checks_an_upstream_gradient_of_another_dtype():
    """The walk skips dense_grad's checks of the operands the forward checked, never of the upstream gradient."""
    layer = layers.Dense(2)
    x = ad.ones((1, 3))
    with ad.GradientTape() as tape:
        y = layer(x)
    with pytest.raises(ValueError, match="dense_grad"):
        tape.gradient(y, layer.kernel, output_gradients=ad.ones((1, 2), "float64"))


@pytest.mark.parametrize("labels", [[0, 1, 1], [[0], [1], [1]], [0.0, 1.0, 1.0]])
def test_sparse_labels_of_any_form_give_one_loss(labels):
    logits = ad.array([[2.0, 1.0], [0.5, 1.5], [0.0, 3.0]])
    loss_fn = ad.losses.SparseCategoricalCrossentropy(from_logits=True)
    expected = float(loss_fn(ad.array([0, 1, 1], "int32"), logits))
    assert float(loss_fn(ad.array(labels), logits)) == pytest.approx(expected)
    assert float(loss_fn(ad.Variable(ad.array(labels)), logits)) == pytest.approx(expected)
