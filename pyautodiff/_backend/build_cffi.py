"""cffi out-of-line API-mode build of csrc/ into pyautodiff._kernels (used by setup.py)."""

import os
import sys

from cffi import FFI

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CSRC = os.path.join(ROOT, "csrc")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from header import strip_comments  # noqa: E402

with open(os.path.join(CSRC, "pyautodiff.h")) as f:
    HEADER = f.read()

ffibuilder = FFI()
ffibuilder.cdef(strip_comments(HEADER))
ffibuilder.set_source(
    "pyautodiff._kernels",
    '#include "internal.h"',
    sources=sorted(os.path.relpath(os.path.join(CSRC, f), ROOT) for f in os.listdir(CSRC) if f.endswith(".c")),
    include_dirs=[CSRC],
    # no errno and no FP-exception side effects to keep: lets loops with selects (ad_expf, sigmoid) vectorize
    extra_compile_args=["-O3", "-std=gnu11", "-fwrapv", "-fno-math-errno", "-fno-trapping-math", "-Wall",
                        "-Wno-unused-function"]
    + os.environ.get("PYAUTODIFF_CFLAGS", "").split(),
    extra_link_args=["-lpthread"] + os.environ.get("PYAUTODIFF_LDFLAGS", "").split(),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
