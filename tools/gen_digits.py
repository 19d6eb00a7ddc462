#!/usr/bin/env python3
"""Write pyautodiff/datasets/digits.bin, the compact copy `ad.datasets.digits()` reads, from the 8x8 digits
file scikit-learn ships (sklearn/datasets/data/digits.csv.gz: per row 64 pixel values 0..16, then the label).

    python tools/gen_digits.py [--out pyautodiff/datasets/digits.bin]

The format (pyautodiff/datasets/__init__.py reads it): zlib of b"DIGITS8\\0", the sample count (uint32, little
endian), every image's 64 pixels as bytes, then every label as a byte. 17 grey levels do not fit a nibble;
zlib brings the 118 kB to about 44 kB. Runs with scikit-learn installed (only its file is read: no import).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import struct
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAGIC = b"DIGITS8\0"
PIXELS = 64


def sklearn_file() -> Path:
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it (and scipy)
    if spec is None or not spec.submodule_search_locations:
        sys.exit("gen_digits: scikit-learn is not installed (make build installs it into .venv)")
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"


def read_rows(path: Path) -> list[list[int]]:
    rows = []
    with gzip.open(path, "rt") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            values = [float(v) for v in line.split(",")]
            row = [int(v) for v in values]
            if len(row) != PIXELS + 1 or row != values or not all(0 <= v <= 16 for v in row[:PIXELS]) \
                    or not 0 <= row[PIXELS] <= 9:
                sys.exit(f"gen_digits: {path} line {number} is not 64 pixels 0..16 and a label 0..9")
            rows.append(row)
    return rows


def pack(rows: list[list[int]]) -> bytes:
    pixels = bytes(v for row in rows for v in row[:PIXELS])
    labels = bytes(row[PIXELS] for row in rows)
    return zlib.compress(MAGIC + struct.pack("<I", len(rows)) + pixels + labels, 9)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "pyautodiff" / "datasets" / "digits.bin")
    args = p.parse_args()
    rows = read_rows(sklearn_file())
    data = pack(rows)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(args.out)  # never a half-written file for make to take as up to date
    print(f"gen_digits: {len(rows)} digits, {len(data)} bytes -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
