"""cffi out-of-line API-mode build of csrc/ into pyautodiff._kernels (used by setup.py)."""

import os
import sys
import sysconfig

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
    # no -march: the wheel runs on any x86-64, the kernels pick AVX-512 / AVX2 / SSE2 at run time.
    # Prefix maps: the debug info names no build-machine path (the sources as ./, Python's headers as python/)
    extra_compile_args=["-O3", "-std=gnu11", "-fwrapv", "-fno-math-errno", "-fno-trapping-math", "-Wall",
                        "-Wno-unused-function", f"-ffile-prefix-map={ROOT}=.",
                        f"-ffile-prefix-map={sysconfig.get_paths()['include']}=python"]
    + os.environ.get("PYAUTODIFF_CFLAGS", "").split(),
    extra_link_args=["-lpthread"] + os.environ.get("PYAUTODIFF_LDFLAGS", "").split(),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
