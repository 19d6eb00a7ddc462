"""ad.datasets.digits(): the 8x8 digits shipped with the package (natively, from the wheels and in Pyodide),
checked against numbers read from scikit-learn's copy, and against scikit-learn itself where it is installed."""

import pytest

import pyautodiff as ad

# from sklearn.datasets.load_digits() (scikit-learn 1.9.1): images[0] (a 0) and images[1796] (an 8), the class
# sizes and the sum of every pixel count
FIRST = [[0, 0, 5, 13, 9, 1, 0, 0], [0, 0, 13, 15, 10, 15, 5, 0], [0, 3, 15, 2, 0, 11, 8, 0],
         [0, 4, 12, 0, 0, 8, 8, 0], [0, 5, 8, 0, 0, 9, 8, 0], [0, 4, 11, 0, 1, 12, 7, 0],
         [0, 2, 14, 5, 10, 12, 0, 0], [0, 0, 6, 13, 10, 0, 0, 0]]
LAST = [[0, 0, 10, 14, 8, 1, 0, 0], [0, 2, 16, 14, 6, 1, 0, 0], [0, 0, 15, 15, 8, 15, 0, 0],
        [0, 0, 5, 16, 16, 10, 0, 0], [0, 0, 12, 15, 15, 12, 0, 0], [0, 4, 16, 6, 4, 16, 6, 0],
        [0, 8, 16, 10, 8, 16, 8, 0], [0, 1, 8, 12, 14, 12, 1, 0]]
COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
PIXEL_SUM = 561718


@pytest.fixture(scope="module")
def digits():
    return ad.datasets.digits()


def image(x, i):
    """Image i of x as 8 rows of pixel counts 0..16."""
    return [[round(v * 16) for v in row] for row in ad.reshape(x[i], (8, 8)).tolist()]


def test_shapes_and_dtypes(digits):
    x, y = digits
    assert (x.shape, x.dtype, y.shape, y.dtype) == ((1797, 8, 8, 1), "float32", (1797,), "int32")


def test_scaled_to_unit_interval_exactly(digits):
    x, _ = digits
    assert float(ad.reduce_min(x)) == 0.0 and float(ad.reduce_max(x)) == 1.0
    # counts / 16 are exact in float32: scaling back gives the integers, and their sum
    assert float(ad.reduce_sum(ad.cast(x, "float64") * 16)) == PIXEL_SUM
    assert all(v.is_integer() for v in ad.reshape(x * 16, (-1,)).tolist())


def test_known_pixels_and_labels(digits):
    x, y = digits
    assert image(x, 0) == FIRST and image(x, 1796) == LAST
    assert y[:10].tolist() == list(range(10)) and int(y[1796]) == 8


def test_label_counts(digits):
    _, y = digits
    assert [int(ad.reduce_sum(ad.cast(ad.equal(y, k), "int32"))) for k in range(10)] == COUNTS


def test_fresh_tensors_each_call(digits):
    x, y = ad.datasets.digits()
    assert x is not digits[0] and x.tolist() == digits[0].tolist() and y.tolist() == digits[1].tolist()


def test_the_license_ships_beside_the_data():
    from importlib import resources
    text = resources.files("pyautodiff.datasets").joinpath("LICENSE-digits").read_text()
    assert "BSD 3-Clause" in text and "Optical Recognition of Handwritten Digits" in text


def test_same_as_scikit_learn(digits):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    np = pytest.importorskip("numpy")
    reference = sklearn_datasets.load_digits()
    x, y = digits
    np.testing.assert_array_equal(np.asarray(x)[..., 0] * 16, reference.images)
    np.testing.assert_array_equal(np.asarray(y), reference.target)
