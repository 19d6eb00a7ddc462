"""save_weights / load_weights in the safetensors format: round trips, the safetensors package's files,
and hostile files, which raise an error naming the file and leave the model unchanged."""

import json
import struct

import pytest

import pyautodiff as ad


def _model():
    class Net(ad.Model):
        def __init__(self):
            super().__init__()
            self.dense1 = ad.layers.Dense(4, input_shape=(3,), activation="relu")
            self.dense2 = ad.layers.Dense(2)
            self.norm = ad.layers.BatchNormalization(input_shape=(2,))

        def call(self, x, training=False):
            return self.norm(self.dense2(self.dense1(x)), training=training)

    net = Net()
    net(ad.ones((1, 3)))  # dense2 builds on the first call
    return net


def _snapshot(model):
    return [v.tolist() for v in model.variables]


def test_round_trip(tmp_path):
    path = tmp_path / "w.safetensors"
    a, b = _model(), _model()
    a.norm(ad.ones((2, 2)), training=True)  # non-trainable moving statistics are saved too
    a.save_weights(path)
    assert _snapshot(a) != _snapshot(b)
    b.load_weights(str(path))
    assert _snapshot(a) == _snapshot(b)
    size = struct.unpack("<Q", path.read_bytes()[:8])[0]
    header = json.loads(path.read_bytes()[8:8 + size])
    assert size % 8 == 0 and header["dense1.kernel"] == {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]}


def test_interoperates_with_the_safetensors_package(tmp_path):
    np = pytest.importorskip("numpy")
    st = pytest.importorskip("safetensors.numpy")
    model = _model()
    mine = tmp_path / "mine.safetensors"
    model.save_weights(mine)
    loaded = st.load_file(str(mine))
    np.testing.assert_array_equal(loaded["dense2.kernel"], model.dense2.kernel.numpy())
    theirs = tmp_path / "theirs.safetensors"
    arrays = {k: np.full(v.shape, i, dtype=v.dtype) for i, (k, v) in enumerate(loaded.items())}
    arrays["dense1.bias"] = np.arange(4, dtype=np.float64)  # converted to the model's float32
    st.save_file(arrays, str(theirs))
    model.load_weights(theirs)
    assert model.dense1.bias.tolist() == [0, 1, 2, 3] and model.dense1.bias.dtype == "float32"
    assert model.norm.moving_variance.tolist() == [float(list(arrays).index("norm.moving_variance"))] * 2


def _write(path, header, data=b"", raw_header=None):
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def _good_header(model):
    header, offset = {}, 0
    for name, var, _ in model._walk():
        header[name] = {"dtype": "F32", "shape": list(var.shape), "data_offsets": [offset, offset + var.nbytes]}
        offset += var.nbytes
    return header, offset


HOSTILE = {
    "empty file": lambda h, n: (None, b"", b""),
    "short header length": lambda h, n: (None, b"", b"\x01\x02"),
    "header longer than the file": lambda h, n: (None, b"", struct.pack("<Q", 1 << 40)),
    "not json": lambda h, n: (None, b"\0" * n, b"{not json"),
    "not an object": lambda h, n: ([1, 2], b"\0" * n, None),
    "missing weight": lambda h, n: ({k: v for k, v in h.items() if k != "dense2.bias"}, b"\0" * n, None),
    "unexpected weight": lambda h, n: ({**h, "extra": h["dense2.bias"]}, b"\0" * n, None),
    "wrong shape": lambda h, n: ({**h, "dense1.kernel": {**h["dense1.kernel"], "shape": [4, 3]}}, b"\0" * n, None),
    "bad dtype": lambda h, n: ({**h, "dense1.kernel": {**h["dense1.kernel"], "dtype": "F16"}}, b"\0" * n, None),
    "offsets past the data": lambda h, n: (h, b"\0" * (n - 4), None),
    "offsets of the wrong size": lambda h, n: (
        {**h, "dense2.bias": {**h["dense2.bias"], "data_offsets": [0, 4]}}, b"\0" * n, None),
    "negative dimension": lambda h, n: (
        {**h, "dense2.bias": {**h["dense2.bias"], "shape": [-2]}}, b"\0" * n, None),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_raise_and_leave_the_model_unchanged(tmp_path, case):
    model = _model()
    before = _snapshot(model)
    header, nbytes = _good_header(model)
    bad_header, data, raw = HOSTILE[case](header, nbytes)
    path = tmp_path / "bad.safetensors"
    if raw is not None and bad_header is None and case in ("empty file", "short header length"):
        path.write_bytes(raw)
    elif case == "header longer than the file":
        path.write_bytes(raw + b"{}")
    else:
        _write(path, bad_header, data, raw)
    with pytest.raises(ValueError, match=r"load_weights: '.*bad\.safetensors' is not a valid weights file"):
        model.load_weights(path)
    assert _snapshot(model) == before


def test_missing_file_and_unbuilt_model(tmp_path):
    with pytest.raises(OSError, match=r"load_weights: cannot read '.*nowhere\.safetensors'"):
        _model().load_weights(tmp_path / "nowhere.safetensors")
    lazy = ad.Sequential([ad.layers.Dense(2)])
    with pytest.raises(ValueError, match="has no weights yet"):
        lazy.save_weights(tmp_path / "x.safetensors")
