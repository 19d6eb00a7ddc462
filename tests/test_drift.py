"""The header, the binding and the op table must not drift apart."""

import os

import pyautodiff as ad
from pyautodiff import _backend as B
from pyautodiff._backend import header

HEADER = os.path.join(os.path.dirname(__file__), "..", "csrc", "pyautodiff.h")


def _header_text():
    path = HEADER if os.path.exists(HEADER) else os.path.join(os.path.dirname(B.__file__), "pyautodiff.h")
    with open(path) as f:
        return f.read()


def test_every_kernel_in_the_header_is_bound():
    funcs = header.functions(_header_text())
    assert len(funcs) > 15
    missing = [name for name in funcs if not callable(getattr(B.lib, name, None))]
    assert missing == []


def test_every_header_constant_is_exposed():
    for name, value in header.defines(_header_text()).items():
        assert getattr(B.C, name) == value, name


def test_header_parser_reads_signatures():
    funcs = header.functions(_header_text())
    assert funcs["ad_unary"] == ("int", ["int", "int", "int64_t", "void*", "void*", "double", "double"])
    assert funcs["ad_alloc"] == ("void*", ["int64_t"])
    assert funcs["ad_get_num_threads"] == ("int", [])


def test_every_c_op_has_its_row_and_every_activation_is_registered():
    # the C rows name the ops (ad_op_name); each is an op of the table, under the same name
    assert set(B.UNARY) | set(B.BINARY) <= set(ad.ops.OPS)
    assert len(B.UNARY) == len(set(B.UNARY.values())) and len(B.BINARY) == len(set(B.BINARY.values()))
    for name, act in B.ACTIVATIONS.items():  # an activation is a unary op with a <name>_grad binary op
        assert B.UNARY[name] == act and name + "_grad" in B.BINARY
        assert ad.ops.ACTIVATIONS[name] is getattr(ad, name) and ad.ops.nn.FUSED[name] == act
    assert {"linear", "softmax"} <= set(ad.ops.ACTIVATIONS)


def test_op_names_end_and_fail_cleanly():
    owner, ptr = B.alloc(64, None)
    assert B.lib.ad_op_name(B.C.AD_OPS_UNARY, len(B.UNARY), ptr, 64) == B.C.AD_EINVAL
    assert B.lib.ad_op_name(B.C.AD_OPS_UNARY, -1, ptr, 64) == B.C.AD_EINVAL
    assert B.lib.ad_op_name(7, 0, ptr, 64) == B.C.AD_EINVAL
    assert B.lib.ad_op_name(B.C.AD_OPS_BINARY, B.BINARY["greater_equal"], ptr, 5) == B.C.AD_EINVAL  # too short


def test_every_op_has_a_vjp_or_is_marked_non_differentiable():
    for name, op in ad.ops.OPS.items():
        assert op.vjp is None or callable(op.vjp), name
    assert {"equal", "sign", "greater"} <= ad.ops.NON_DIFFERENTIABLE
    assert {"matmul", "exp", "reduce_sum", "gather"}.isdisjoint(ad.ops.NON_DIFFERENTIABLE)


def test_public_api_names():
    for name in ["Variable", "GradientTape", "array", "constant", "zeros", "ones", "full", "zeros_like", "ones_like",
                 "add", "subtract", "multiply", "divide", "negative", "square", "sqrt", "exp", "log", "pow", "abs",
                 "maximum", "minimum", "matmul", "reduce_sum", "reduce_mean", "reduce_max", "reshape", "transpose",
                 "expand_dims", "squeeze", "concat", "split", "repeat", "where", "clip_by_value", "scale",
                 "increment", "sigmoid", "relu", "tanh", "softmax", "log_softmax", "gather", "sub", "mul", "div",
                 "equal", "not_equal", "greater", "less", "greater_equal", "less_equal", "argmax", "cast", "one_hot",
                 "shape", "stop_gradient", "backend_info", "set_num_threads", "get_num_threads", "NeuralNetworks"]:
        assert hasattr(ad, name), name
    g = ad.NeuralNetworks().gradient()
    for name in ["Variable", "GradientTape", "mul", "add", "square"]:
        assert hasattr(g, name), name
    info = ad.backend_info()
    assert {"binding", "platform", "simd", "threads", "version"} <= set(info)
