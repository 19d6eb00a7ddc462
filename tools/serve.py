"""Serve dist/web the way the page works best: cross-origin isolated, precompressed where the browser accepts it.

    python tools/serve.py [--port 8000] [--dir dist/web]

The two headers below (COOP/COEP) make the page cross-origin isolated, which gives it SharedArrayBuffer: the
Python panel's Stop then raises KeyboardInterrupt in the running code (Pyodide's interrupt buffer). A static host
without them still serves the page; Stop Python then restarts the Python worker instead.
A request for name gets name.gz (built by tools/build_web.py) with Content-Encoding: gzip when it accepts gzip.
"""

import argparse
import http.server
import os
from pathlib import Path

ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".mjs": "text/javascript", ".js": "text/javascript", ".py": "text/x-python",
                      ".safetensors": "application/octet-stream"}
    isolate = True

    def end_headers(self):
        if self.isolate:
            for name, value in ISOLATION_HEADERS.items():
                self.send_header(name, value)
        super().end_headers()

    def send_head(self):
        path = self.translate_path(self.path)
        gz = path + ".gz"
        if "gzip" not in self.headers.get("Accept-Encoding", "") or not (os.path.isfile(path) and os.path.isfile(gz)):
            return super().send_head()
        f = open(gz, "rb")  # noqa: SIM115 - do_GET copies it to the client and closes it
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(os.fstat(f.fileno()).st_size))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return f


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent.parent / "dist" / "web")
    args = parser.parse_args()
    handler = lambda *a, **kw: Handler(*a, directory=str(args.dir), **kw)  # noqa: E731
    with http.server.ThreadingHTTPServer((args.bind, args.port), handler) as httpd:
        print(f"pyautodiff demo on http://{args.bind}:{args.port}/ (cross-origin isolated; Ctrl-C stops)")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
