"""Small datasets shipped with the package, so examples and tests run offline, in Pyodide and on the page.

digits.bin is generated at build time by tools/gen_digits.py from scikit-learn's copy of the UCI optical
handwritten digits (license: LICENSE-digits beside this file: scikit-learn's BSD-3-Clause, the data CC BY 4.0).
"""

import array
import struct
import zlib
from importlib import resources

from ..tensor import _rebuild

MAGIC = b"DIGITS8\0"  # tools/gen_digits.py writes the format
IMAGE = (8, 8, 1)
LEVELS = 16  # pixels count the on cells of a 4x4 block: 0..16


def digits() -> tuple:
    """The 1797 8x8 handwritten digits of scikit-learn's `load_digits`, in its order: (x, y) with x float32 of
    shape (1797, 8, 8, 1) (channels last, for Conv2D), the pixel counts 0..16 divided by 16, so in [0, 1] and
    exact; y int32 of shape (1797,), the digits 0..9."""
    try:
        raw = zlib.decompress(resources.files(__package__).joinpath("digits.bin").read_bytes())
    except FileNotFoundError:
        raise FileNotFoundError("datasets.digits: digits.bin is missing from the package: a source tree makes it "
                                "with `make build` (tools/gen_digits.py, from scikit-learn's copy)") from None
    count = struct.unpack_from("<I", raw, len(MAGIC))[0] if raw[:len(MAGIC)] == MAGIC else -1
    pixels = count * IMAGE[0] * IMAGE[1]
    start = len(MAGIC) + 4
    if count < 0 or len(raw) != start + pixels + count:
        raise ValueError("datasets.digits: digits.bin is not the format tools/gen_digits.py writes: rebuild it")
    x = array.array("f", [v / LEVELS for v in raw[start:start + pixels]])
    y = array.array("i", list(raw[start + pixels:]))
    return _rebuild(x.tobytes(), (count, *IMAGE), "float32"), _rebuild(y.tobytes(), (count,), "int32")
