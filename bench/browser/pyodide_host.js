// Loads Pyodide, one pyautodiff wheel and bench_pyodide.py; used on the page (bench.js) and in worker.js.
import { loadPyodide } from "/web/pyodide/pyodide.mjs";

export async function loadOurs(wheelUrl) {
  // as the page does: dist/web ships no pyodide-lock.json (only our wheel is loaded, by URL), so pass an empty lock
  const manifest = await (await fetch("/web/manifest.json")).json();
  const py = await loadPyodide({ indexURL: "/web/pyodide/", lockFileContents: { info: manifest.lock_info, packages: {} },
                                 packageBaseUrl: "/web/pyodide/" });
  const errors = [];
  await py.loadPackage(wheelUrl, { messageCallback: () => {}, errorCallback: (m) => errors.push(m) });
  if (errors.length) throw new Error(`loading ${wheelUrl} failed: ${errors.join("; ")}`);
  const source = await (await fetch(new URL("bench_pyodide.py", import.meta.url))).text();
  const ns = py.globals.get("dict")();
  py.runPython(source, { globals: ns, filename: "bench_pyodide.py" });
  const fn = (name) => ns.get(name);
  return {
    version: py.version,
    setup: (config, groups) => JSON.parse(fn("setup")(JSON.stringify(config), groups)),
    check: (name, n) => JSON.parse(fn("check")(name, n)),
    timeCalls: (name, number) => fn("time_calls")(name, number),
    info: () => JSON.parse(fn("info")()),
  };
}
