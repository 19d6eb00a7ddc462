"""Fuzzing load_weights (hypothesis, derandomized): mutations of a valid file written by save_weights.

Families of bad input: truncation; byte flips in the header length, the JSON and the data; header lengths
of gigabytes or beyond the file; offsets out of range, overlapping, leaving holes or swapped; unknown
dtypes; shapes that do not match the data or the model; non-UTF-8 and deeply nested JSON; duplicate keys;
non-integer offsets and shapes; data after the last weight. Whatever the bytes, load_weights either loads
exactly the file's values or raises a ValueError (OSError for I/O) naming the file and leaves the model
as it was; Python's own allocations stay small (a claimed header of gigabytes is never allocated).
"""

import json
import struct
import tracemalloc

import pytest

import pyautodiff as ad
from pyautodiff import _backend as B

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
# Python allocations one load may peak at: this much plus the header read and decoded (twice the file)
ALLOC_LIMIT = 256 * 1024


def _model():
    model = ad.Sequential([ad.layers.Dense(4, input_shape=(3,), activation="relu"), ad.layers.Dense(2),
                           ad.layers.BatchNormalization()])
    model(ad.ones((1, 3)))
    return model


MODEL = _model()  # one model for every example: a failed load must leave it exactly as it was


def _raw(var) -> bytes:
    return bytes(B.view(var._ptr, var.nbytes)) if var.nbytes else b""


def _state():
    return [_raw(v) for v in MODEL.variables]


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("fuzz") / "valid.safetensors"
    MODEL.save_weights(path)
    return path.read_bytes()


def _split(blob: bytes):
    size = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8:8 + size]), blob[8 + size:]


def _pack(header_text: bytes, data: bytes) -> bytes:
    return struct.pack("<Q", len(header_text)) + header_text + data


# --- mutations: each takes (valid file bytes, hypothesis data) and returns the hostile bytes ---------------

def truncate(blob, draw):
    return blob[:draw(st.integers(0, len(blob) - 1))]


def flip_bytes(blob, draw):
    size = struct.unpack("<Q", blob[:8])[0]
    region = draw(st.sampled_from([(0, 8), (8, 8 + size), (8 + size, len(blob))]))
    out = bytearray(blob)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(region[0], region[1] - 1))
        out[at] ^= draw(st.integers(1, 255))
    return bytes(out)


def header_length(blob, draw):
    size = struct.unpack("<Q", blob[:8])[0]
    claimed = draw(st.sampled_from([size - 1, size + 1, len(blob) - 8, len(blob) - 7, 2**30, 2**31 - 1, 2**32,
                                    2**40, 2**63, 2**64 - 1, 0, 1]))
    return struct.pack("<Q", claimed) + blob[8:]


def _entry_mutation(blob, draw, mutate):
    header, data = _split(blob)
    names = sorted(k for k in header if k != "__metadata__")
    name = draw(st.sampled_from(names))
    mutate(header, name, names, draw)
    return _pack(json.dumps(header).encode(), data)


def _offsets(header, name, names, draw):
    begin, end = header[name]["data_offsets"]
    other = header[draw(st.sampled_from(names))]["data_offsets"]
    header[name]["data_offsets"] = draw(st.sampled_from([
        [begin, end + 4], [begin - 4, end - 4], [begin + 4, end + 4], [end, begin], [-4, end - begin - 4],
        list(other), [other[0], other[0] + end - begin], [begin, 2**62], [2**64, 2**64 + end - begin],
        [begin + 2, end + 2], [begin], [begin, end, end], None, "0-16", [float(begin), float(end)],
        [True, end], [begin, str(end)]]))


def _dtype(header, name, names, draw):
    header[name]["dtype"] = draw(st.sampled_from(["F16", "BF16", "I64", "U8", "BOOL", "f32", "", None, 32,
                                                  ["F32"], {"F32": 1}, "F64", "I32"]))


def _shape(header, name, names, draw):
    shape = header[name]["shape"]
    header[name]["shape"] = draw(st.sampled_from([
        shape[::-1], shape + [1], shape[:-1], [2**62] * len(shape), [-1] + shape[1:], [], None, "3,4",
        [float(d) for d in shape], [True] * len(shape), [d * 2 for d in shape], [0] * len(shape)]))


def _structure(header, name, names, draw):
    choice = draw(st.integers(0, 5))
    if choice == 0:
        del header[name]
    elif choice == 1:
        header["extra.weight"] = dict(header[name])
    elif choice == 2:
        header[name] = draw(st.sampled_from([None, [], "F32", 7, {"dtype": "F32"}]))
    elif choice == 3:
        header["__metadata__"] = draw(st.sampled_from([None, [], {"a": {"b": []}}, "x" * 1000]))
    elif choice == 4:
        header[name].pop(draw(st.sampled_from(["dtype", "shape", "data_offsets"])))
    else:
        header[name]["extra_field"] = [1, 2, 3]


def offsets(blob, draw):
    return _entry_mutation(blob, draw, _offsets)


def dtype(blob, draw):
    return _entry_mutation(blob, draw, _dtype)


def shape(blob, draw):
    return _entry_mutation(blob, draw, _shape)


def structure(blob, draw):
    return _entry_mutation(blob, draw, _structure)


def raw_json(blob, draw):
    """The header text replaced or edited below the JSON level."""
    header, data = _split(blob)
    text = json.dumps(header).encode()
    name = draw(st.sampled_from(sorted(k for k in header if k != "__metadata__")))
    entry = json.dumps(header[name]).encode()
    text = draw(st.sampled_from([
        text[:-1] + b"," + json.dumps(name).encode() + b":" + entry + b"}",  # duplicate key
        text.replace(b'"F32"', b'"F\xff2"', 1),  # not UTF-8
        b"\xef\xbb\xbf" + text,  # a byte-order mark
        text.replace(json.dumps(name).encode(), b'"' + name.encode() + b'\xc3"', 1),
        b"[" * 10000 + b"]" * 10000,  # nesting beyond the parser's recursion limit
        b'{"a": ' * 5000 + b"1" + b"}" * 5000,
        b"",
        b"null",
        b'"' + b"x" * 5000 + b'"',
        text.replace(b"[", b"[NaN, ", 1),
        text.replace(b"0", b"1" * 5000, 1),  # an integer beyond the digit limit
        text + b"trailing",
        text.replace(b"}", b"", 1),
    ]))
    return _pack(text, data)


def data_layout(blob, draw):
    """Valid JSON, data bytes moved: appended, removed, or a gap between two weights."""
    header, data = _split(blob)
    text = json.dumps(header).encode()
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return _pack(text, data + b"\0" * draw(st.integers(1, 64)))
    if kind == 1:
        return _pack(text, data[:-draw(st.integers(1, 16))])
    if kind == 2:  # shift every weight after the first by 4 bytes: a hole
        for entry in header.values():
            if isinstance(entry, dict) and "data_offsets" in entry and entry["data_offsets"][0] > 0:
                entry["data_offsets"] = [o + 4 for o in entry["data_offsets"]]
        return _pack(json.dumps(header).encode(), data + b"\0" * 4)
    # swap the data of two weights of the same size: valid, the values move with the offsets
    names = sorted(k for k in header if k != "__metadata__")
    by_size: dict = {}
    for k in names:
        b, e = header[k]["data_offsets"]
        by_size.setdefault(e - b, []).append(k)
    pairs = [v for v in by_size.values() if len(v) > 1]
    if pairs:
        a, b = pairs[0][:2]
        header[a]["data_offsets"], header[b]["data_offsets"] = header[b]["data_offsets"], header[a]["data_offsets"]
    return _pack(json.dumps(header).encode(), data)


MUTATIONS = [truncate, flip_bytes, header_length, offsets, dtype, shape, structure, raw_json, data_layout]


def _expected_values(blob: bytes) -> list:
    """What a correct loader must have loaded from `blob` (which it accepted), decoded independently."""
    header, data = _split(blob)
    out = []
    for name, var, _ in MODEL._walk():
        entry = header[name]
        chunk = data[entry["data_offsets"][0]:entry["data_offsets"][1]]
        fmt = {"F32": "f", "F64": "d", "I32": "i"}[entry["dtype"]]
        if {"F32": "float32", "F64": "float64", "I32": "int32"}[entry["dtype"]] == var.dtype:
            out.append(chunk)  # same dtype: the very bytes
        else:
            values = list(struct.unpack(f"<{len(chunk) // struct.calcsize(fmt)}{fmt}", chunk))
            out.append(_raw(ad.cast(ad.array(values, "float64"), var.dtype)) if values else b"")
    return out


@FUZZ
@given(st.sampled_from(MUTATIONS), st.data())
def test_mutated_files_load_exactly_or_fail_cleanly(valid, tmp_path_factory, mutation, data):
    hostile = mutation(valid, data.draw)
    path = tmp_path_factory.getbasetemp() / "hostile.safetensors"
    path.write_bytes(hostile)
    before = _state()
    tracemalloc.start()
    try:
        MODEL.load_weights(path)
    except (ValueError, OSError) as e:
        assert type(e) in (ValueError, OSError), repr(e)
        assert str(e).startswith(f"load_weights: {str(path)!r}"), str(e)
        assert _state() == before, "a failed load changed the model"
    else:
        weights = {name: var for name, var, _ in MODEL._walk()}
        assert [_raw(weights[n]) for n, _, _ in MODEL._walk()] == _expected_values(hostile)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < ALLOC_LIMIT + 2 * len(hostile), f"{mutation.__name__}: a load allocated {peak} bytes"


def test_every_family_of_mutations_is_rejected_sometimes(valid, tmp_path):
    """The valid file loads; each family's mutations are rejected at least sometimes (the fuzz test
    above would pass vacuously if the mutations were all no-ops)."""
    path = tmp_path / "ok.safetensors"
    path.write_bytes(valid)
    MODEL.load_weights(path)
    for mutation in MUTATIONS:
        assert _rejections(mutation, valid, path), f"{mutation.__name__}: no mutation was rejected"


def _rejections(mutation, valid: bytes, path) -> int:
    rejected = 0

    @settings(max_examples=20, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def count(data):
        nonlocal rejected
        path.write_bytes(mutation(valid, data.draw))
        try:
            MODEL.load_weights(path)
        except ValueError:
            rejected += 1

    count()
    return rejected


def test_a_claimed_header_of_gigabytes_is_never_allocated(tmp_path):
    path = tmp_path / "huge.safetensors"
    for claimed in (2**31, 2**40, 2**64 - 1):
        path.write_bytes(struct.pack("<Q", claimed) + b"{}")
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match=rf"header length {claimed} exceeds the file \(10 bytes\)"):
                MODEL.load_weights(path)
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert peak < ALLOC_LIMIT


def test_a_header_beyond_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from pyautodiff import models
    monkeypatch.setattr(models, "_MAX_HEADER", 64)
    path = tmp_path / "big.safetensors"
    path.write_bytes(struct.pack("<Q", 100) + b" " * 100)
    with pytest.raises(ValueError, match="header length 100 exceeds the limit of 64 bytes"):
        MODEL.load_weights(path)


def test_overlapping_holes_and_trailing_data_are_named(valid, tmp_path):
    header, data = _split(valid)
    path = tmp_path / "layout.safetensors"
    names = sorted(k for k in header if k != "__metadata__")
    first = min(names, key=lambda k: header[k]["data_offsets"][0])
    second = min((k for k in names if k != first), key=lambda k: header[k]["data_offsets"][0])
    bad = json.loads(json.dumps(header))
    b, e = bad[second]["data_offsets"]
    size = e - b
    if size <= header[first]["data_offsets"][1]:
        bad[second]["data_offsets"] = [0, size]  # second's bytes overlap first's
        path.write_bytes(_pack(json.dumps(bad).encode(), data))
        with pytest.raises(ValueError, match="overlap another weight's"):
            MODEL.load_weights(path)
    path.write_bytes(_pack(json.dumps(header).encode(), data + b"\0" * 8))
    with pytest.raises(ValueError, match="8 bytes after the last weight's data"):
        MODEL.load_weights(path)
    text = json.dumps(header).encode()
    path.write_bytes(_pack(text[:-1] + b',"' + first.encode() + b'":' + json.dumps(header[first]).encode() + b"}",
                           data))
    with pytest.raises(ValueError, match=f"the header is not JSON \\(duplicate key '{first}'\\)"):
        MODEL.load_weights(path)
