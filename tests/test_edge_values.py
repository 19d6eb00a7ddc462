"""Edge values that are undefined behaviour in plain C: defined results on every platform (no numpy)."""

import math

import pyautodiff as ad


def test_float_to_int32_cast_saturates_and_maps_nan_to_zero():
    x = ad.array([float("nan"), float("inf"), -float("inf"), 3e9, -3e9, 2.9, -2.9], "float64")
    assert ad.cast(x, "int32").tolist() == [0, 2**31 - 1, -2**31, 2**31 - 1, -2**31, 2, -2]


def test_int32_arithmetic_wraps():
    assert (ad.array([2**31 - 1]) + 1).tolist() == [-2**31]
    assert (ad.array([-2**31]) * -1).tolist() == [-2**31]


def test_mean_of_nothing_is_nan():
    assert math.isnan(ad.reduce_mean(ad.zeros((0,))).item())
    assert ad.reduce_sum(ad.zeros((0,))).item() == 0.0
