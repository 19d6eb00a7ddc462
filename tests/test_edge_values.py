"""Edge values that are undefined behaviour in plain C: defined results on every platform (no numpy)."""

import math

import pytest

import pyautodiff as ad


def test_float_to_int32_cast_truncates_and_refuses_what_int32_cannot_hold():
    x = ad.array([2.9, -2.9, 2**31 - 0.5, -2**31 - 0.5], "float64")
    assert ad.cast(x, "int32").tolist() == [2, -2, 2**31 - 1, -2**31]
    for bad in (float("nan"), float("inf"), -float("inf"), 3e9, -3e9):  # (tests/test_hardening_tensor.py: more)
        with pytest.raises(ValueError, match="cast: NaN, inf or a value out of range"):
            ad.cast(ad.array([1.0, bad], "float64"), "int32")


def test_int32_arithmetic_wraps():
    assert (ad.array([2**31 - 1]) + 1).tolist() == [-2**31]
    assert (ad.array([-2**31]) * -1).tolist() == [-2**31]


def test_mean_of_nothing_is_nan():
    assert math.isnan(ad.reduce_mean(ad.zeros((0,))).item())
    assert ad.reduce_sum(ad.zeros((0,))).item() == 0.0
