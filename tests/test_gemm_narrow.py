"""Products with few columns (n <= 12): on AVX-512 the narrow path (16-float vectors of 4 columns x 4 depths and
of 2 columns x 8 depths, b packed so), elsewhere the 8 x 8 tile and the small path; against numpy in float64, with
every ragged depth and column count, NaN and infinity kept to their own rows and columns, and the same bits
whatever the threads."""

import pytest

import pyautodiff as ad

np = pytest.importorskip("numpy")


def products(m, k, n, tb, dtype="float32", seed=0):
    rng = np.random.default_rng(seed + 1000 * n + k)
    a = rng.uniform(-1, 1, (m, k)).astype(dtype)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(dtype)
    got = np.asarray(ad.matmul(ad.array(a), ad.array(b), transpose_b=tb))
    bb = (b.T if tb else b).astype(np.float64)
    return got, a.astype(np.float64) @ bb, np.abs(a).astype(np.float64) @ np.abs(bb)


@pytest.mark.parametrize("n", range(1, 13))
@pytest.mark.parametrize("m", [48, 61, 130])
def test_every_narrow_width_and_ragged_depth_against_numpy(m, n):
    for k in (1, 3, 5, 8, 13, 16, 64, 515):
        for tb in (False, True):
            got, want, size = products(m, k, n, tb)
            assert got.shape == (m, n)
            assert np.all(np.abs(got - want) <= 2 * k * np.finfo(np.float32).eps * size), (m, k, n, tb)


@pytest.mark.parametrize("k", [29, 64])
def test_nan_and_infinity_stay_in_their_row_and_column(k):
    """The padding past k and past n is zeros in both operands (0 * inf would be NaN): an infinity in a's last
    depth reaches only its row, one in b's last depth only its column."""
    m, n = 64, 10
    a = np.ones((m, k), np.float32)
    b = np.ones((k, n), np.float32)
    a[5, k - 1] = np.inf
    b[k - 1, 7] = np.nan
    got = np.asarray(ad.matmul(ad.array(a), ad.array(b)))
    want = a.astype(np.float64) @ b.astype(np.float64)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    assert np.array_equal(got[finite], want[finite].astype(np.float32))


def test_the_same_bits_on_one_and_two_threads():
    """Threads split the rows (a product this size runs on 2): each row's sums do not depend on the split."""
    rng = np.random.default_rng(7)
    a = ad.array(rng.standard_normal((2053, 515)).astype(np.float32))
    before = ad.get_num_threads()
    for n in (3, 10, 12):
        b = ad.array(rng.standard_normal((515, n)).astype(np.float32))
        try:
            ad.set_num_threads(1)
            one = np.asarray(ad.matmul(a, b)).tobytes()
            ad.set_num_threads(2)
            two = np.asarray(ad.matmul(a, b)).tobytes()
        finally:
            ad.set_num_threads(before)
        assert one == two, n


def test_rows_do_not_depend_on_the_rows_around_them():
    """A row's result is the same in a product of 48 rows and in one of 130 (different tiles and edges)."""
    rng = np.random.default_rng(9)
    a = rng.standard_normal((130, 300)).astype(np.float32)
    b = ad.array(rng.standard_normal((300, 10)).astype(np.float32))
    whole = np.asarray(ad.matmul(ad.array(a), b))
    part = np.asarray(ad.matmul(ad.array(a[77:125].copy()), b))
    assert whole[77:125].tobytes() == part.tobytes()
