"""docs/api.md's Errors section, area by area: bad input raises ValueError (shapes, values) or TypeError (types)
with a message naming the op (or layer, loss, optimizer, Function) and the offending shapes, dtypes or
values. Complements test_errors.py (ops, indexing, C statuses) and the per-module tests."""

import pytest

import pyautodiff as ad


def raises(kind, pattern):
    return pytest.raises(kind, match=pattern)


# --- tensors ----------------------------------------------------------------------------------------

def test_shapes_must_be_ints():
    for bad in ("ab", (2.5,), 3.0, None, (2, "3")):
        with raises(TypeError, r"full: shape must be a tuple of ints, got "):
            ad.zeros(bad)
    with raises(ValueError, r"full: negative dimension in shape \(2, -3\)"):
        ad.ones((2, -3))


def test_stack_and_concat_name_themselves_shapes_and_dtypes():
    with raises(ValueError, r"stack: tensors must have the same shape, got \(2,\) float32, \(3,\) float32"):
        ad.stack([ad.ones((2,)), ad.ones((3,))])
    with raises(TypeError, r"concat: dtype mismatch: \(2,\) float32, \(2,\) float64"):
        ad.concat([ad.ones((2,)), ad.ones((2,), "float64")], 0)
    with raises(TypeError, r"concat: dtype mismatch"):
        ad.stack([ad.ones((2,)), ad.ones((2,), "float64")])


def test_other_op_arguments():
    with raises(ValueError, r"where: shapes \(2,\) and \(3,\) and \(2,\) cannot be broadcast"):
        ad.where(ad.ones((2,)) > 0, ad.ones((3,)), ad.ones((2,)))
    with raises(ValueError, r"split: axis 0 of shape \(5,\) cannot be split into 2 parts"):
        ad.split(ad.ones((5,)), 2)
    with raises(ValueError, r"squeeze: axis 0 of shape \(2,\) has size 2, not 1"):
        ad.squeeze(ad.ones((2,)), 0)
    with raises(ValueError, r"expand_dims: axis 5 is out of range for a tensor of shape \(2,\)"):
        ad.expand_dims(ad.ones((2,)), 5)
    with raises(ValueError, r"clip_by_value: lo \(2.0\) must not exceed hi \(1.0\)"):
        ad.clip_by_value(ad.ones((2,)), 2, 1)
    with raises(ValueError, r"reshape: at most one -1 in shape \(-1, -1\)"):
        ad.reshape(ad.ones((4,)), (-1, -1))
    with raises(ValueError, r"one_hot: depth must be a non-negative int, got -1"):
        ad.one_hot([1], -1)
    with raises(TypeError, r"one_hot: indices must be int32 or int64, got float32"):
        ad.one_hot(ad.array([1.0]), 3)
    with raises(TypeError, r"cast: unsupported dtype 'int8'"):
        ad.cast(ad.ones((2,)), "int8")
    with raises(TypeError, r"matmul: expects float32 or float64 tensors, got \(1, 1\) int32, \(1, 1\) int32"):
        ad.matmul(ad.array([[1]]), ad.array([[1]]))
    with raises(TypeError, r"softmax: expects float32 or float64 tensors, got \(2,\) int32"):
        ad.softmax(ad.array([1, 2]))
    with raises(ValueError, r"argmax: axis 1 is out of range for a tensor of shape \(2,\)"):
        ad.argmax(ad.ones((2,)), 1)


# --- variables and tapes ----------------------------------------------------------------------------

def test_variable_assign_checks_dtype_and_shape():
    v = ad.Variable([1.0, 2.0], name="w")
    for method in ("assign", "assign_add", "assign_sub"):
        with raises(TypeError, rf"{method}: variable 'w' is float32, value is float64"):
            getattr(v, method)(ad.ones((2,), "float64"))
        with raises(ValueError, rf"{method}: variable 'w' has shape \(2,\), value has shape \(3,\)"):
            getattr(v, method)(ad.ones((3,)))
    with raises(TypeError, r"assign: variable 'i' is int32, value is float32"):
        ad.Variable([1, 2], name="i").assign(ad.array([1.5, 2.0]))
    assert v.tolist() == [1.0, 2.0]  # nothing was written
    with raises(TypeError, r"Variable: unsupported dtype 'int8'"):
        ad.Variable([1.0], dtype="int8")
    with raises(TypeError, r"Variable: cannot make a tensor from str"):
        ad.Variable("abc")


def test_tape_arguments():
    with raises(TypeError, r"GradientTape.watch: expected tensors, got str"):
        ad.GradientTape().watch("x")
    with raises(TypeError, r"gradient: sources must be tensors, got str"):
        ad.GradientTape().gradient(ad.ones(()), "x")
    with raises(TypeError, r"gradient: target must be a tensor, got int"):
        ad.GradientTape().gradient([1], [ad.ones(())])
    with raises(ValueError, r"gradient: 1 targets but 2 output_gradients"):
        ad.GradientTape().gradient([ad.ones(())], [ad.ones(())], output_gradients=[ad.ones(()), ad.ones(())])
    x = ad.Variable([1.0, 2.0])
    with ad.GradientTape() as tape:
        y = ad.scale(2.0, x)
    with raises(ValueError, r"gradient: output_gradients of shape \(3,\) do not fit the target \(2,\) float32"):
        tape.gradient(y, x, output_gradients=ad.ones((3,)))


# --- Function ---------------------------------------------------------------------------------------

def test_function_called_with_wrong_arguments():
    f = ad.Function(lambda x, y: x + y)
    with raises(TypeError, r"Function lambda: missing a required argument: 'y'"):
        f(ad.ones((2,)))
    with raises(TypeError, r"Function lambda: too many positional arguments"):
        f(ad.ones((2,)), ad.ones((2,)), ad.ones((2,)))
    with raises(TypeError, r"Function lambda: got an unexpected keyword argument 'z'"):
        f(ad.ones((2,)), ad.ones((2,)), z=1)
    with raises(TypeError, r"Function lambda: cannot trace an argument of type set"):
        f(ad.ones((2,)), {1, 2})
    with raises(ValueError, r"add: shapes \(2,\) and \(3,\) cannot be broadcast"):  # the body's own error
        f(ad.ones((2,)), ad.ones((3,)))
    assert f.trace_count == 0  # no failed call left a trace behind


# --- layers and models ------------------------------------------------------------------------------

def test_layers_with_wrong_input_width_or_rank():
    dense = ad.layers.Dense(3, input_shape=(4,), name="d")
    with raises(ValueError, r"Dense 'd': expected inputs with last dimension 4, got shape \(2, 5\)"):
        dense(ad.ones((2, 5)))
    with raises(ValueError, r"Dense '.*': cannot build for input shape \(\)"):
        ad.layers.Dense(2)(ad.ones(()))
    norm = ad.layers.BatchNormalization(name="bn")
    norm(ad.ones((2, 3)))
    with raises(ValueError, r"BatchNormalization 'bn': expected 3 features on axis -1, got inputs of shape \(2, 4\)"):
        norm(ad.ones((2, 4)))
    with raises(ValueError, r"Flatten 'f': expects a batch of inputs, got shape \(\)"):
        ad.layers.Flatten(name="f")(ad.ones(()))
    with raises(ValueError, r"Embedding 'e': indices of shape \(1, 2\) must lie in \[0, 5\)"):
        ad.layers.Embedding(5, 2, name="e")(ad.array([[0, 7]]))
    model = ad.Sequential([ad.layers.Dense(2, input_shape=(3,), name="first")])
    with raises(ValueError, r"Dense 'first': expected inputs with last dimension 3, got shape \(1, 4\)"):
        model(ad.ones((1, 4)))
    with raises(TypeError, r"\.add: expects a Layer, got int"):
        ad.Sequential([3])
    with raises(ValueError, r"unknown activation 'nope'"):
        ad.layers.Activation("nope")


def test_model_loops_name_the_model_and_the_shapes():
    model = ad.Sequential([ad.layers.Dense(3, input_shape=(2,))], name="net")
    model.compile("sgd", ad.losses.SparseCategoricalCrossentropy(from_logits=True))
    with raises(ValueError, r"net.predict: expects inputs x"):
        model.predict(None)
    with raises(ValueError, r"net.evaluate: .*inputs of shape \(2, 2\) and tests of shape \(1,\)"):
        model.evaluate([[1.0, 2.0]] * 2, [1])
    with raises(ValueError, r"SparseCategoricalCrossentropy: labels must lie in \[0, 3\) for y_pred of shape "
                            r"\(1, 3\), got labels from 5 to 5"):
        model.fit([[1.0, 2.0]], [5], verbose=0)


# --- losses -----------------------------------------------------------------------------------------

def test_losses_with_labels_out_of_range_or_mismatched():
    sparse = ad.losses.SparseCategoricalCrossentropy(from_logits=True)
    with raises(ValueError, r"SparseCategoricalCrossentropy: labels must lie in \[0, 3\) for y_pred of shape "
                            r"\(2, 3\), got labels from -1 to 3"):
        sparse(ad.array([-1, 3]), ad.zeros((2, 3)))
    with raises(ValueError, r"SparseCategoricalCrossentropy: y_pred must have shape \(batch, classes\), "
                            r"got \(2,\)"):
        sparse(ad.array([0, 1]), ad.zeros((2,)))
    with raises(ValueError, r"BinaryCrossentropy: y_true of shape \(2, 4\) does not match y_pred of shape \(2, 3\)"):
        ad.losses.BinaryCrossentropy()(ad.ones((2, 4)), ad.ones((2, 3)))
    with raises(ValueError, r"BinaryCrossentropy: y_true of shape \(2,\) and y_pred of shape \(\) must have the "
                            r"same batch size"):
        ad.losses.BinaryCrossentropy()(ad.ones((2,)), ad.ones(()))
    with raises(TypeError, r"MeanSquaredError: y_pred must be float32 or float64, got int32"):
        ad.losses.MeanSquaredError()(ad.ones((2,)), ad.array([1, 2]))
    with raises(ValueError, r"Huber: delta must be positive, got -1"):
        ad.losses.Huber(-1)


# --- optimizers -------------------------------------------------------------------------------------

def test_optimizer_params_and_grads_must_match():
    w, b = ad.Variable([1.0, 2.0], name="w"), ad.Variable([3.0], name="b")
    with raises(ValueError, r"SGD.update: 2 params but 1 gradients"):
        ad.optimizers.SGD().update([w, b], [ad.ones((2,))])
    with raises(ValueError, r"Adam: gradient \(3,\) float32 does not match variable 'w' \(2,\) float32"):
        ad.optimizers.Adam().update([w, b], [ad.ones((3,)), ad.ones((1,))])
    with raises(TypeError, r"Adam: gradient \(2,\) float64 does not match variable 'w' \(2,\) float32"):
        ad.optimizers.Adam().update([w, b], [ad.ones((2,), "float64"), ad.ones((1,))])
    with raises(TypeError, r"RMSprop: can only update float32 or float64 Variables, got 'n' \(2,\) int32"):
        ad.optimizers.RMSprop().apply_gradients([(ad.array([1, 2]), ad.Variable([1, 2], name="n"))])
    with raises(TypeError, r"SGD: can only update Variables, got Tensor"):
        ad.optimizers.SGD().apply_gradients([(ad.ones((2,)), ad.ones((2,)))])
    assert w.tolist() == [1.0, 2.0] and b.tolist() == [3.0]  # a rejected update changes nothing


# --- metrics and data -------------------------------------------------------------------------------

def test_metrics_and_datasets_name_the_shapes():
    with raises(ValueError, r"sparse_categorical_accuracy: y_true of shape \(3,\) and y_pred of shape \(2, 3\) "
                            r"must have the same batch size"):
        ad.metrics.SparseCategoricalAccuracy().update_state(ad.array([0, 1, 2]), ad.ones((2, 3)))
    with raises(ValueError, r"categorical_accuracy: y_true of shape \(2, 4\) does not match y_pred of shape "
                            r"\(2, 3\)"):
        ad.metrics.CategoricalAccuracy().update_state(ad.ones((2, 4)), ad.ones((2, 3)))
    with raises(ValueError, r"NDArrayDataset: batch_size must be a positive int, got 0"):
        ad.data.NDArrayDataset([[1.0]], [[1.0]], batch_size=0)
