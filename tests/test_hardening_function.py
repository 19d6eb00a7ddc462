"""Function replay hardening (issue 13): a replay plan owns every buffer whose address it holds, so churn
between calls cannot free them; a replay that fails checks what it can before writing any Variable, and
its message names the op and its operands. Runs natively, under ASan/UBSan (tools/sanitize.sh) and in
Pyodide."""

import gc
import importlib

import pytest

import pyautodiff as ad
from pyautodiff import _backend as B
from pyautodiff import tensor as tensor_module
from pyautodiff.ops import _core

F = importlib.import_module("pyautodiff.plan")


def counting(shape: tuple, scale: float = 1.0):
    n = 1
    for d in shape:
        n *= d
    return ad.reshape(ad.array([i * scale for i in range(n)], dtype="float32"), shape)


def churn(n: int = 10000) -> None:
    """What a long session does between two calls: many shapes, many constants, then the caches let go."""
    for i in range(1, n):
        ad.zeros((i, 2)) + 1.0
    for i in range(300):
        ad.ones((3,)) * (i + 0.5)
    B.i64.cache_clear()
    tensor_module._BSTRIDES.clear()
    tensor_module._SCALARS.clear()
    gc.collect()
    for i in range(1, 200):  # reuse the freed memory
        ad.full((i, 3), 7.0) + 1.0


# --- the plan owns what it points at --------------------------------------------------------------------


def test_replay_after_churn_reads_live_memory():
    f = ad.Function(lambda x: ad.reduce_sum(x, axis=0))
    x = ad.ones((37, 29))
    assert f(x).tolist() == [37.0] * 29
    churn()
    assert f(x).tolist() == [37.0] * 29
    assert f(ad.full((37, 29), 2.0)).tolist() == [74.0] * 29
    assert f.trace_count == 1


def test_replay_after_churn_broadcasts_constants_and_backward():
    """Broadcast strides (cached in _core), scalar constants (cached in tensor._SCALARS, cleared when full)
    and the backward plan's arrays all outlive their caches."""
    w = ad.Variable([[0.5, -1.0, 2.0]])

    @ad.function
    def f(x, b):
        return ad.reduce_sum(ad.tanh(x * 2.5 + b) * w - 0.25, axis=1)

    def eager(x, b):
        return ad.reduce_sum(ad.tanh(x * 2.5 + b) * w - 0.25, axis=1)

    x, b = counting((4, 3), 0.1), ad.array([0.1, 0.2, 0.3])
    with ad.GradientTape() as t:
        t.watch(x)
        y = f(x, b)
    expected_grad = t.gradient(y, [x, w])
    churn(3000)
    for _ in range(2):
        assert f(x, b).tolist() == eager(x, b).tolist()
        with ad.GradientTape() as t:
            t.watch(x)
            y = f(x, b)
        grads = t.gradient(y, [x, w])
        assert [g.tolist() for g in grads] == [g.tolist() for g in expected_grad]
        churn(500)
    assert f.trace_count == 1


def _model(seed: int):
    model = ad.models.Sequential([ad.layers.Dense(8, activation="relu", kernel_initializer=ad.initializers.
                                                  GlorotUniform(seed)), ad.layers.Dropout(0.25, seed=seed),
                                  ad.layers.Dense(1, kernel_initializer=ad.initializers.GlorotUniform(seed + 1))])
    model.compile(optimizer=ad.optimizers.Adam(0.01), loss="mse")
    return model


def test_fit_predict_many_lengths_fit_again():
    """The realistic trigger: fit, thousands of predicts on inputs of different lengths, then fit again.
    The churned model ends with the weights of a twin that only fitted."""
    x = counting((64, 3), 0.01)
    y = ad.reduce_sum(x, axis=1, keepdims=True)
    churned, twin = _model(3), _model(3)
    for m in (churned, twin):
        m.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    for n in range(1, 1500):
        churned.predict(ad.ones((n % 97 + 1, 3)), batch_size=n % 29 + 1)
    B.i64.cache_clear()
    gc.collect()
    for m in (churned, twin):
        m.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    assert churned._train_function.trace_count == 1
    for a, b in zip(churned.get_weights(), twin.get_weights()):
        assert a.tolist() == b.tolist()
    assert churned.predict(x).tolist() == twin.predict(x).tolist()


def test_every_plan_word_points_into_memory_the_plan_keeps():
    """The build-time guard: recorded calls and optimizer batches whose pointers lie in memory they own pass;
    a call holding a bare address (a plain int, a cffi cast) is refused instead of read after a free."""
    v, g = ad.Variable([1.0, 2.0]), ad.array([0.5, 0.5])
    opt = ad.optimizers.SGD(0.1)
    opt.apply_gradients([(g, v)])
    batch = next(b for _, b in opt._batches.values())
    if batch is None:
        pytest.skip("the C plan runner is unavailable")
    assert all(isinstance(t, ad.Tensor) for call in batch.calls for t in call[2])

    temporary = ad.ones((2,))
    bare = B.offset(temporary._ptr, 0)  # an address that does not own the tensor's memory
    call = (B.lib.ad_fill, (_core.code(temporary), 2, 1.0, bare), (), "fill")
    with pytest.raises(RuntimeError, match="fill: a replay plan would hold the address of a buffer"):
        F.KernelBatch.make([call], [])
    owned = (B.lib.ad_fill, (_core.code(temporary), 2, 1.0, bare), (temporary,), "fill")
    F.KernelBatch.make([owned], []).run([])
    assert temporary.tolist() == [1.0, 1.0]
    state = ad.ops.nn.RandomState(5)  # its words are an owning array: a plan may hold them without the object
    assert B.span(state.ptr) == (B.address(state.ptr), 16)


# --- a failing replay: checks before writes, and says what failed --------------------------------------


def test_numerics_failure_is_caught_before_the_write():
    v = ad.Variable([1.0, 2.0])

    @ad.function
    def step(x):
        v.assign_add(x)  # written first in the body ...
        return ad.log(x)  # ... but the replay checks the log before writing v

    ad.debug.enable_check_numerics()
    try:
        step(ad.array([1.0, 1.0]))
        assert v.tolist() == [2.0, 3.0]
        with pytest.raises(ad.debug.NumericsError) as e:
            step(ad.array([1.0, -1.0]))
    finally:
        ad.debug.disable_check_numerics()
    assert v.tolist() == [2.0, 3.0]
    msg = str(e.value)
    assert "Function step: replay failed" in msg and "'log'" in msg and "(2,) float32" in msg
    assert "already written" not in msg
    step_check = step  # the trace made with the checks on is kept and still replays
    ad.debug.enable_check_numerics()
    try:
        step_check(ad.array([0.5, 0.5]))
    finally:
        ad.debug.disable_check_numerics()
    assert v.tolist() == [2.5, 3.5]


def test_gather_out_of_range_fails_before_any_write():
    table = ad.Variable(counting((5, 3)))
    calls, seen = ad.Variable([0.0]), ad.Variable([0.0, 0.0])

    @ad.function
    def lookup(idx):
        calls.assign_add(1.0)
        seen.assign(ad.cast(idx, "float32"))
        return ad.gather(table, idx)

    assert lookup(ad.array([0, 4], dtype="int32")).tolist() == [[0.0, 1.0, 2.0], [12.0, 13.0, 14.0]]
    for bad in ([0, 7], [-1, 2]):
        with pytest.raises(ValueError) as e:
            lookup(ad.array(bad, dtype="int32"))
        msg = str(e.value)
        assert "Function lookup: replay failed: gather: index out of range" in msg
        assert "(5, 3) float32, (2,) int32" in msg and "already written" not in msg
    assert calls.tolist() == [1.0] and seen.tolist() == [0.0, 4.0]
    assert lookup(ad.array([1, 2], dtype="int32")).tolist() == [[3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]
    assert calls.tolist() == [2.0] and seen.tolist() == [1.0, 2.0]


def test_failure_that_depends_on_a_write_names_the_variables_written():
    counter = ad.Variable([2.0])
    table = ad.ones((4, 2))

    @ad.function
    def bump_and_read():
        counter.assign_add(1.0)
        return ad.gather(table, ad.cast(counter, "int32"))  # the index is the written value: cannot go first

    assert bump_and_read().tolist() == [[1.0, 1.0]]
    with pytest.raises(ValueError) as e:
        bump_and_read()
    msg = str(e.value)
    assert "gather: index out of range" in msg and "(4, 2) float32, (1,) int32" in msg
    assert f"Variables it had already written: {counter.name}" in msg
    assert counter.tolist() == [4.0]


def test_training_step_with_bad_labels_writes_nothing():
    """A traced training step (forward, backward, optimizer) replayed with an out-of-range label or index:
    the weights, the optimizer's slots and its step count are unchanged, and the error names the op."""
    emb = ad.layers.Embedding(6, 4, embeddings_initializer=ad.initializers.GlorotUniform(1))
    dense = ad.layers.Dense(3, kernel_initializer=ad.initializers.GlorotUniform(2))
    opt = ad.optimizers.Adam(0.05)

    @ad.function
    def train(idx, labels):
        with ad.GradientTape() as tape:
            logits = dense(ad.reduce_mean(emb(idx), axis=1))
            loss = ad.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
        params = emb.trainable_variables + dense.trainable_variables
        opt.apply_gradients(zip(tape.gradient(loss, params), params))
        return loss

    idx, labels = ad.array([[0, 1], [2, 5]], dtype="int32"), ad.array([0, 2], dtype="int32")
    train(idx, labels)
    train(idx, labels)
    snapshot = [v.tolist() for v in opt.variables + emb.trainable_variables + dense.trainable_variables]
    for bad_idx, bad_labels, op in ((idx, ad.array([0, 3], dtype="int32"), "SparseCategoricalCrossentropy"),
                                    (ad.array([[0, 1], [2, 6]], dtype="int32"), labels, "gather")):
        with pytest.raises(ValueError) as e:
            train(bad_idx, bad_labels)
        assert f"Function train: replay failed: {op}" in str(e.value) and "int32" in str(e.value)
        assert "already written" not in str(e.value)
    assert [v.tolist() for v in opt.variables + emb.trainable_variables + dense.trainable_variables] == snapshot
    assert opt.iterations == 2 and train.trace_count == 1
    train(idx, labels)
    assert opt.iterations == 3


def test_reordered_writes_give_the_recorded_results():
    """Writes to Variables move after the calls that do not depend on them, never past a read or a write of
    the same storage: replays equal the body run eagerly, call after call."""
    def body(v, x):
        before = v * 2.0  # read before the write
        v.assign_add(x)
        after = ad.reduce_sum(v * 3.0)  # read after it
        v.assign(v * 0.5 + before * 0.25)  # written twice
        return before + after + ad.exp(x)

    traced, eager = ad.Variable([1.0, -1.0]), ad.Variable([1.0, -1.0])
    f = ad.Function(lambda x: body(traced, x))
    for i in range(4):
        x = ad.array([0.1 * i, -0.2 * i])
        assert f(x).tolist() == body(eager, x).tolist()
        assert traced.tolist() == eager.tolist()
    assert f.trace_count == 1


def test_traced_optimizer_step_keeps_its_slots():
    """An optimizer update traced in a Function points at the slots and the hyper-parameter block: the trace
    keeps them (large ones too, whose pointers do not own their memory natively) when the optimizer goes."""
    w, twin = ad.Variable(ad.ones((40, 40))), ad.Variable(ad.ones((40, 40)))

    def make_step(var):
        opt = ad.optimizers.Adam(0.1)
        opt.build([var])  # slots made before the trace: only the recorded calls point at them
        return ad.Function(lambda g: opt.apply_gradients([(g, var)]))

    step, eager_opt = make_step(w), ad.optimizers.Adam(0.1)
    for i in range(3):
        g = ad.full((40, 40), 0.5 + i)
        step(g)
        eager_opt.apply_gradients([(g, twin)])
        churn(300)
    assert w.tolist() == twin.tolist() and step.trace_count == 1


def test_gradient_after_a_failed_replay_uses_its_own_call():
    """A replay that fails part-way has overwritten the trace's buffers: a gradient of an earlier call then
    recomputes that call's values instead of reading the failed run's."""
    f = ad.Function(lambda x, idx: ad.reduce_sum(ad.gather(ad.exp(x), idx)))
    x1, x2 = ad.array([0.0, 1.0, 2.0]), ad.array([5.0, 6.0, 7.0])
    good, bad = ad.array([2, 0, 2], dtype="int32"), ad.array([2, 9, 0], dtype="int32")
    expected = ad.exp(x1) * ad.array([1.0, 0.0, 2.0])
    for _ in range(2):  # the backward plan is built by the first gradient, replayed by the second
        with ad.GradientTape() as t:
            t.watch(x1)
            y = f(x1, good)
        with pytest.raises(ValueError, match="gather: index out of range"):
            f(x2, bad)
        assert t.gradient(y, x1).tolist() == expected.tolist()
    assert f.trace_count == 1


def test_a_replay_that_writes_a_variable_bumps_its_version():
    # a tape that read v before a replay wrote it must refuse the stale gradient, as after an eager assign
    v = ad.Variable([1.0])

    def bump():
        v.assign_add(1.0)
    f = ad.Function(bump)
    f()
    with ad.GradientTape() as tape:
        y = v * v
    before = v.version
    f()
    assert v.version > before and v.tolist() == [3.0]
    with pytest.raises(RuntimeError, match="was modified"):
        tape.gradient(y, v)


def test_a_body_that_assigns_then_reads_keeps_its_gradient_over_replays():
    w = ad.Variable([2.0, 3.0])
    x = ad.Variable([1.0, 1.0], trainable=False)

    def body(scale):
        x.assign(scale)
        return ad.reduce_sum(w * x * w)
    f = ad.Function(body)
    for s in (1.0, 2.0, 3.0):
        with ad.GradientTape() as tape:
            y = f(ad.array([s, s]))
        assert tape.gradient(y, w).tolist() == [2 * s * 2.0, 2 * s * 3.0]
    assert f.trace_count == 1
