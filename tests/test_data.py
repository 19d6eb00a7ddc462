"""NDArrayDataset: batching, the kept last partial batch, seeded shuffling that keeps pairs aligned."""

import pytest

import pyautodiff as ad

NDArrayDataset = ad.data.NDArrayDataset


def _column(n):
    return ad.reshape(ad.cast(ad.array(list(range(n))), "float32"), (n, 1))


def test_batches_in_order_without_shuffle():
    ds = NDArrayDataset(_column(10), tests=ad.array(list(range(10))), batch_size=4, shuffle=False)
    assert len(ds) == 3
    batches = list(ds)
    assert [b[0].shape for b in batches] == [(4, 1), (4, 1), (2, 1)]
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_shuffle_is_a_seeded_permutation_that_keeps_pairs_aligned():
    ds = NDArrayDataset(_column(50), tests=ad.array(list(range(50))), batch_size=16, shuffle=True, seed=7)
    first = [(x.tolist(), y.tolist()) for x, y in ds]
    order = [v for _, ys in first for v in ys]
    assert sorted(order) == list(range(50)) and order != list(range(50))
    for xs, ys in first:
        assert [row[0] for row in xs] == [float(v) for v in ys]
    second = [v for _, ys in ds for v in ys.tolist()]
    assert second != order  # a new permutation each pass
    again = NDArrayDataset(_column(50), tests=ad.array(list(range(50))), batch_size=16, seed=7)
    assert [v for _, ys in again for v in ys.tolist()] == order


def test_inputs_only_and_lists():
    ds = NDArrayDataset([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], batch_size=2, shuffle=False)
    (x0, t0), (x1, _) = list(ds)
    assert t0 is None and x0.tolist() == [[1, 2], [3, 4]] and x1.tolist() == [[5, 6]]


def test_numpy_inputs():
    np = pytest.importorskip("numpy")
    ds = NDArrayDataset(np.arange(12.0).reshape(6, 2), tests=np.arange(6), batch_size=4, shuffle=False)
    assert [x.dtype for x, _ in ds] == ["float64", "float64"] and len(ds) == 2


def test_bad_input():
    with pytest.raises(ValueError, match=r"inputs of shape \(3, 1\) and tests of shape \(2,\) must have the same"):
        NDArrayDataset(_column(3), tests=[0, 1])
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        NDArrayDataset(_column(3), batch_size=0)
