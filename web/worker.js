// Pyodide and pyautodiff live here, off the page's thread, so the page stays responsive while training.
//
// page -> worker: {type: "train", config}, {type: "stop"}, {type: "run", id, code}
// worker -> page: {type: "status"|"ready"|"started"|"progress"|"finished"|"stopped"|"output"|"error", ...}
//
// Training runs in chunks of whole epochs (a few tens of ms each); between chunks the worker yields to its
// event loop, so a Stop or a new Train message is seen within one chunk.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const CHUNK_MS = 30;
const here = (name) => new URL(name, import.meta.url).href;
const post = (msg) => self.postMessage(msg);

let demo = null;        // demo.py's Trainer and run_code (Python proxies)
let runId = 0;          // the current training run; a new Train or a Stop ends the previous loop
let trainer = null;     // the current run's Trainer (a Python proxy)
let active = false;     // a training loop is running

// A zero-delay yield to the event loop (setTimeout(0) is clamped to 4 ms after a few nestings).
const channel = new MessageChannel();
const yieldQueue = [];
channel.port1.onmessage = () => yieldQueue.shift()();
const nextTask = () => new Promise((resolve) => { yieldQueue.push(resolve); channel.port2.postMessage(null); });

async function init() {
  const t0 = performance.now();
  post({ type: "status", text: "loading Python (Pyodide) ..." });
  const manifest = await (await fetch(here("manifest.json"))).json();
  const demoSource = fetch(here("demo.py")).then((r) => r.text());
  const py = await loadPyodide({ indexURL: here("pyodide/") });
  const tPyodide = performance.now();
  post({ type: "status", text: "loading pyautodiff ..." });
  const errors = [];
  await py.loadPackage(here(manifest.wheel), { messageCallback: () => {}, errorCallback: (m) => errors.push(m) });
  if (errors.length) throw new Error(`loading ${manifest.wheel} failed: ${errors.join("; ")}`);
  const namespace = py.globals.get("dict")();
  py.runPython(await demoSource, { globals: namespace, filename: "demo.py" });
  demo = { Trainer: namespace.get("Trainer"), runCode: namespace.get("run_code") };
  const info = py.runPython("import json, pyautodiff as ad; json.dumps(ad.backend_info())");
  const t1 = performance.now();
  post({ type: "ready", info: JSON.parse(info), ms: t1 - t0, pyodide: py.version,
         stages: { pyodide: tPyodide - t0, pyautodiff: t1 - tPyodide } });
}

function toPlain(proxy) {
  const value = proxy.toJs({ dict_converter: Object.fromEntries });
  proxy.destroy();
  return value;
}

async function train(config) {
  const run = ++runId;
  trainer?.destroy();
  trainer = null;
  const current = demo.Trainer(config.hidden, config.activation, config.optimizer, config.learningRate,
                               config.epochs, config.grid);
  trainer = current;
  active = true;
  post({ type: "started", run, summary: toPlain(current.summary()),
         probabilities: Float32Array.from(toPlain(current.probabilities())) });
  for (;;) {
    const chunk = toPlain(current.train(CHUNK_MS));
    const probabilities = Float32Array.from(toPlain(current.probabilities()));
    post({ type: "progress", run, ...chunk, probabilities }, [probabilities.buffer]);
    if (chunk.done) { active = false; post({ type: "finished", run, epoch: chunk.epoch }); return; }
    await nextTask();  // lets "stop", "train" and "run" messages in
    if (run !== runId) return;  // stopped, or superseded by a new run
  }
}

function stop() {
  if (!active) return;
  active = false;
  runId++;
  post({ type: "stopped", epoch: trainer.epoch });
}

function runCode(id, code) {
  post({ type: "output", id, ...toPlain(demo.runCode(code)) });
}

const ready = init();
self.onmessage = async ({ data }) => {
  try {
    await ready;
    if (data.type === "train") await train(data.config);
    else if (data.type === "stop") stop();
    else if (data.type === "run") runCode(data.id, data.code);
  } catch (e) {
    if (data.type === "train") active = false;
    post({ type: "error", text: String(e && e.message ? e.message : e), during: data.type, id: data.id });
  }
};
ready.catch((e) => post({ type: "error", text: `could not start: ${e && e.message ? e.message : e}`, during: "init" }));
