"""The web page's tests need a built dist/web, Playwright and Debian's chromium: only `make test-web` runs them.

`pytest tests` (natively) and the Pyodide run of the suite collect nothing here.
"""

import os
import sys

if os.environ.get("RUN_WEB_TESTS") != "1" or sys.platform == "emscripten":
    collect_ignore_glob = ["test_*.py"]
