#!/usr/bin/env node
// Run the pyautodiff test-suite inside Pyodide (wasm32) under Node, offline.
//
//   node tests/wasm/run_pytest.mjs [--wheels DIR] [--dist DIR|WHEEL] [--] [pytest args...]
//
//   --wheels DIR   folder with the pure-Python test wheels (pytest, iniconfig,
//                  packaging, pluggy, pygments); default $WASM_TEST_WHEELS or
//                  <repo>/build/wasm-wheels
//   --dist X       folder holding pyautodiff-*-wasm32.whl (newest is used) or
//                  the wheel itself; default $WASM_DIST or <repo>/dist
//   pytest args    default: <repo>/tests -q -p no:cacheprovider
//                  (-p no:cacheprovider is always added).  Relative paths are
//                  relative to the repo root; host-absolute paths under the
//                  repo's tests/ also work (tests/ is mounted at its real path).
//
// Pyodide comes from <repo>/web/node_modules/pyodide (npm ci in web/).
// Exit code = pytest's exit code (3 if Pyodide itself failed, 4 on setup error).
// Host env vars named PYAUTODIFF_* are forwarded to Python's os.environ.
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";
import fs from "node:fs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const t0 = performance.now();
const ms = (t) => `${((performance.now() - t) / 1000).toFixed(2)}s`;
const log = (...a) => process.stderr.write(`[run_pytest] ${a.join(" ")}\n`);
function die(code, msg) { log(msg); process.exit(code); }
// A Pyodide fatal error (e.g. a ctypes call whose argtypes do not match the wasm
// signature: "Cannot convert 5 to a BigInt") can surface as an async rejection.
for (const ev of ["uncaughtException", "unhandledRejection"])
  process.on(ev, (e) => die(3, `Pyodide fatal error (${ev}): ${e && e.stack ? e.stack : e}`));

// ---- arguments -------------------------------------------------------------
let wheelsDir = process.env.WASM_TEST_WHEELS || path.join(repo, "build", "wasm-wheels");
let dist = process.env.WASM_DIST || path.join(repo, "dist");
const pytestArgs = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--") { pytestArgs.push(...argv.slice(i + 1)); break; }
  else if (a === "--wheels") wheelsDir = argv[++i];
  else if (a.startsWith("--wheels=")) wheelsDir = a.slice(9);
  else if (a === "--dist") dist = argv[++i];
  else if (a.startsWith("--dist=")) dist = a.slice(7);
  else pytestArgs.push(a);
}
wheelsDir = path.resolve(wheelsDir);
dist = path.resolve(dist);
if (pytestArgs.length === 0) pytestArgs.push(path.join(repo, "tests"), "-q");
if (!pytestArgs.some((a, i) => a === "no:cacheprovider" && pytestArgs[i - 1] === "-p"))
  pytestArgs.push("-p", "no:cacheprovider");

const pyodideDir = process.env.PYODIDE_DIR || path.join(repo, "web", "node_modules", "pyodide");
if (!fs.existsSync(path.join(pyodideDir, "pyodide.mjs")))
  die(4, `Pyodide not found in ${pyodideDir} (run: cd web && npm ci)`);

if (!fs.existsSync(wheelsDir)) die(4, `test wheel folder ${wheelsDir} missing (make wasm-deps)`);
const testWheels = fs.readdirSync(wheelsDir).filter((f) => f.endsWith(".whl")).sort()
  .map((f) => path.join(wheelsDir, f));
if (!testWheels.some((w) => /^pytest-\d/.test(path.basename(w))))
  die(4, `no pytest-*.whl in ${wheelsDir}`);

let projectWheel = dist;
if (fs.existsSync(dist) && fs.statSync(dist).isDirectory()) {
  const cands = fs.readdirSync(dist).filter((f) => /^pyautodiff-.*wasm32\.whl$/.test(f))
    .map((f) => path.join(dist, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (!cands.length) die(4, `no pyautodiff-*-wasm32.whl in ${dist} (make wasm)`);
  projectWheel = cands[0];
} else if (!fs.existsSync(dist)) die(4, `${dist} does not exist (make wasm)`);

// ---- Pyodide -----------------------------------------------------------------
const { loadPyodide } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);
const env = { HOME: "/home/pyodide", PYTHONDONTWRITEBYTECODE: "1" };
for (const [k, v] of Object.entries(process.env)) if (k.startsWith("PYAUTODIFF_")) env[k] = v;

let t = performance.now();
const py = await loadPyodide({ indexURL: pyodideDir + path.sep, env });
// raw byte passthrough keeps pytest's output (and partial lines) intact
const writer = (stream) => ({ write: (buf) => { stream.write(buf); return buf.length; }, isatty: false });
py.setStdout(writer(process.stdout));
py.setStderr(writer(process.stderr));
log(`loadPyodide ${ms(t)}`);

const loadErrors = [];
const loadOpts = { messageCallback: () => {}, errorCallback: (m) => loadErrors.push(m) };
t = performance.now();
await py.loadPackage(testWheels, loadOpts);
log(`loadPackage(test wheels: ${testWheels.map((w) => path.basename(w)).join(", ")}) ${ms(t)}`);
t = performance.now();
await py.loadPackage(projectWheel, loadOpts);
log(`loadPackage(${path.basename(projectWheel)}) ${ms(t)}`);
// loadPackage reports failures through errorCallback instead of throwing.
if (loadErrors.length) die(4, `loadPackage failed:\n  ${loadErrors.join("\n  ")}`);

// Mount the host tests/, examples/ and docs/ at their real absolute paths (NODEFS), cwd = repo root.
for (const dir of ["tests", "examples", "docs"]) {
  const host = path.join(repo, dir);
  py.FS.mkdirTree(host);
  if (typeof py.mountNodeFS === "function") py.mountNodeFS(host, host);
  else py.FS.mount(py.FS.filesystems.NODEFS, { root: host }, host);
}
// pyproject.toml (for [tool.pytest.ini_options]) is copied, not mounted, so the
// source tree's pyautodiff/ (with a host .so) can never shadow the installed wheel.
for (const f of ["pyproject.toml", "pytest.ini", "conftest.py"]) {
  const p = path.join(repo, f);
  if (fs.existsSync(p)) py.FS.writeFile(p, fs.readFileSync(p));
}
py.FS.chdir(repo);

let code;
try {
  t = performance.now();
  py.globals.set("_pytest_args", py.toPy(pytestArgs));
  code = py.runPython(`
import sys
sys.dont_write_bytecode = True   # no wasm .pyc files in the host tests/ tree
import pytest
_code = int(pytest.main(list(_pytest_args)))
sys.stdout.flush(); sys.stderr.flush()
_code
`);
  log(`pytest ${ms(t)} (total ${ms(t0)}), exit code ${code}`);
} catch (e) {
  log(`Pyodide error: ${e && e.stack ? e.stack : e}`);
  code = 3;
}
process.exit(code);
