// Pyodide and pyautodiff live here, off the page's thread, so the page stays responsive while training.
//
// page -> worker: {type: "init", interrupt}  (an Int32Array on a SharedArrayBuffer, or null)
//                 {type: "new", run, config}  a fresh model and dataset
//                 {type: "train", run, until, pace}  train to epoch `until` at `pace` epochs/s (0: flat out)
//                 {type: "pace", run, pace}   {type: "stop", run}   {type: "add", run, point}
//                 {type: "save"}   {type: "load", run, bytes}
//                 {type: "run", id, code, filename}  the Python panel
//                 {type: "digits-train", run}  {type: "digits-stop", run}  the digits tab's CNN, trained afresh
//                 {type: "digits-predict", id, pixels}  {type: "digits-sample", index}  the drawing pad
// worker -> page: "status", "ready", "started", "progress", "ended" (reason: done, stopped, step, diverged),
//                 "data", "refresh", "stdout", "output", "weights", "error", and for the digits tab
//                 "digits-started", "digits-progress", "digits-ended", "digits-prediction", "digits-sample";
//                 progress carries step_us, the median time of one training step; every training message carries
//                 the run id it belongs to, so the page can drop whatever belongs to a run it has left, and
//                 the id of the run that built the model, so no epoch of the model shown is dropped.
//
// Training runs in chunks of whole epochs (a few tens of ms each); between chunks the worker yields to its
// event loop, so a Stop or a new Train message is seen within one chunk.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const CHUNK_MS = 30;
const here = (name) => new URL(name, import.meta.url).href;
const post = (msg, transfer = []) => self.postMessage(msg, transfer);

let py = null;
let demo = null;        // demo.py's namespace (a Python dict proxy)
let trainer = null;     // the current model and data (a Python proxy), shared with the Python panel
let model = null;       // the run that built `trainer`: progress names it, so none is lost when a run changes
let currentRun = null;  // the run a training loop may continue; anything else ends it
let paced = null;       // {pace (epochs/s, 0: flat out), t0, first epoch} of the training loop
let interrupt = null;   // [0] Pyodide's interrupt buffer: the page writes 2 (SIGINT) to stop a Python run; [1] counts
                        // the interrupts Python received, so the page can tell a lost write from one received
let digits = null;      // the digits tab's DigitsTrainer (built on first use)
let digitsRun = null;   // the digits run its training loop may continue

// A zero-delay yield to the event loop (setTimeout(0) is clamped to 4 ms after a few nestings).
const channel = new MessageChannel();
const yieldQueue = [];
channel.port1.onmessage = () => yieldQueue.shift()();
const nextTask = () => new Promise((resolve) => { yieldQueue.push(resolve); channel.port2.postMessage(null); });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function init(buffer) {
  const t0 = performance.now();
  interrupt = buffer;
  post({ type: "status", text: "loading Python (Pyodide) ...", step: 1 });
  const manifest = await (await fetch(here("manifest.json"))).json();
  const demoSource = fetch(here("demo.py")).then((r) => r.text());
  // no package index: only our wheel is loaded, by URL, so Pyodide's 119 KB pyodide-lock.json is not fetched
  py = await loadPyodide({ indexURL: here("pyodide/"), lockFileContents: { info: manifest.lock_info, packages: {} },
                           packageBaseUrl: here("pyodide/") });
  py.setStdin({ error: true });  // no console here: reading stdin raises at once instead of calling prompt()
  const tPyodide = performance.now();
  post({ type: "status", text: "loading pyautodiff ...", step: 2 });
  const errors = [];
  await py.loadPackage(here(manifest.wheel), { messageCallback: () => {}, errorCallback: (m) => errors.push(m) });
  if (errors.length) throw new Error(`loading ${manifest.wheel} failed: ${errors.join("; ")}`);
  demo = py.globals.get("dict")();
  py.runPython(await demoSource, { globals: demo, filename: "demo.py" });
  if (interrupt) demo.get("count_interrupts_in")(() => Atomics.add(interrupt, 1, 1));
  const info = py.runPython("import json, pyautodiff as ad; json.dumps(ad.backend_info())");
  const t1 = performance.now();
  post({ type: "ready", info: JSON.parse(info), ms: t1 - t0, pyodide: py.version, interruptible: !!interrupt,
         stages: { pyodide: tPyodide - t0, pyautodiff: t1 - tPyodide } });
}

function toPlain(proxy) {
  const value = proxy.toJs({ dict_converter: Object.fromEntries });
  proxy.destroy();
  return value;
}

// what the plane shows, as message fields and their transfer list: P(class 1) and the first layers' neurons
function views() {
  const probabilities = Float32Array.from(toPlain(trainer.probabilities()));
  return [{ probabilities, neurons: toPlain(trainer.neurons()) }, [probabilities.buffer]];
}

function view(run) {
  const [shown, transfer] = views();
  post({ type: "refresh", run, model, epoch: trainer.epoch, ...toPlain(trainer.evaluate()), ...shown }, transfer);
}

function newModel(run, config) {
  currentRun = null;  // a running loop ends at its next check
  trainer?.destroy();
  trainer = null;
  trainer = demo.get("Trainer")(py.toPy(config));
  model = run;
  const [shown, transfer] = views();
  post({ type: "started", run, summary: toPlain(trainer.summary()), data: toPlain(trainer.data.points()),
         ...toPlain(trainer.evaluate()), ...shown }, transfer);
}

async function train(run, until, pace) {
  currentRun = run;
  setPace(pace);
  for (;;) {
    // paced: never ahead of `pace` epochs per second since the pace was set, so the run can be watched
    const allowed = paced.pace
      ? Math.min(until, paced.first + 1 + Math.floor((paced.pace * (performance.now() - paced.t0)) / 1000)) : until;
    if (allowed > trainer.epoch) {
      const chunk = toPlain(trainer.train(CHUNK_MS, allowed));
      const [shown, transfer] = views();
      post({ type: "progress", run, model, ...chunk, ...shown }, transfer);
      const reason = chunk.diverged ? "diverged" : chunk.done ? "done" : trainer.epoch >= until ? "step" : null;
      if (reason) {
        if (currentRun === run) currentRun = null;
        post({ type: "ended", run, reason, epoch: trainer.epoch });
        return;
      }
      await nextTask();  // lets "stop", "train" and "run" messages in
    } else {
      await sleep(1000 / paced.pace);
    }
    if (run !== currentRun) return;  // stopped, or superseded by a new run
  }
}

function setPace(pace) {
  paced = { pace, t0: performance.now(), first: trainer.epoch };
}

function stop(run) {
  if (currentRun === run) currentRun = null;
  post({ type: "ended", run, reason: "stopped", epoch: trainer ? trainer.epoch : 0 });
}

// The interrupt buffer is watched only while the panel's code runs: a Stop Python for a run still queued behind a
// training chunk must reach that run (the page cleared the buffer when it sent it), not interrupt the chunk. A stop
// already waiting raises at run_code's first bytecode, before its own try: that KeyboardInterrupt is the run's output.
function runCode(id, code, filename) {
  const send = (text) => post({ type: "stdout", id, text });
  const t0 = performance.now();
  if (interrupt) py.setInterruptBuffer(interrupt);
  try {
    post({ type: "output", id, ...toPlain(demo.get("run_code")(code, filename, send, trainer)) });
  } catch (e) {
    if (e.type !== "KeyboardInterrupt") throw e;
    send("KeyboardInterrupt\n");
    post({ type: "output", id, ok: false, elapsed_ms: performance.now() - t0 });
  } finally {
    if (interrupt) {
      py.setInterruptBuffer(undefined);
      Atomics.store(interrupt, 0, 0);
    }
  }
  if (trainer) view(null);  // the code may have trained page.model: show what it did
}

function addPoint(run, point) {
  const points = toPlain(trainer.add_point(...point));
  post({ type: "data", run, model, data: points, ...toPlain(trainer.evaluate()) });
}

function saveWeights() {
  const bytes = py.FS.readFile(trainer.save_weights());
  post({ type: "weights", bytes }, [bytes.buffer]);
}

function loadWeights(run, bytes) {
  py.FS.writeFile(demo.get("WEIGHTS_FILE"), new Uint8Array(bytes));
  trainer.load_weights();
  view(run);
}

// the digits tab: a fresh CNN trained in chunks, as the playground's model is (no pacing: it is short)
async function trainDigits(run) {
  digitsRun = run;
  digits?.destroy();
  digits = demo.get("DigitsTrainer")();
  post({ type: "digits-started", run, summary: toPlain(digits.summary()), test_accuracy: digits.test_accuracy });
  for (;;) {
    const chunk = toPlain(digits.train(CHUNK_MS));
    post({ type: "digits-progress", run, ...chunk });
    if (chunk.done) {
      if (digitsRun === run) digitsRun = null;
      post({ type: "digits-ended", run, reason: "done" });
      return;
    }
    await nextTask();
    if (run !== digitsRun) return;
  }
}

function stopDigits(run) {
  if (digitsRun === run) digitsRun = null;
  post({ type: "digits-ended", run, reason: "stopped" });
}

const digitsModel = () => (digits ??= demo.get("DigitsTrainer")());

let ready = null;
self.onmessage = async ({ data }) => {
  if (data.type === "init") {
    ready = init(data.interrupt);
    ready.catch((e) => post({ type: "error", text: `could not start: ${e && e.message ? e.message : e}`,
                              during: "init" }));
    return;
  }
  try {
    await ready;
    if (data.type === "new") newModel(data.run, data.config);
    else if (data.type === "train") await train(data.run, data.until, data.pace);
    else if (data.type === "stop") stop(data.run);
    else if (data.type === "pace" && data.run === currentRun) setPace(data.pace);
    else if (data.type === "add") addPoint(data.run, data.point);
    else if (data.type === "run") runCode(data.id, data.code, data.filename);
    else if (data.type === "save") saveWeights();
    else if (data.type === "load") loadWeights(data.run, data.bytes);
    else if (data.type === "digits-train") await trainDigits(data.run);
    else if (data.type === "digits-stop") stopDigits(data.run);
    else if (data.type === "digits-predict") {
      post({ type: "digits-prediction", id: data.id,
             probabilities: toPlain(digitsModel().predict(py.toPy(data.pixels))) });
    } else if (data.type === "digits-sample") post({ type: "digits-sample", ...toPlain(digitsModel().sample(data.index)) });
  } catch (e) {
    if (data.type === "train" && currentRun === data.run) currentRun = null;
    if (data.type === "digits-train" && digitsRun === data.run) digitsRun = null;
    post({ type: "error", text: String(e && e.message ? e.message : e), during: data.type, id: data.id,
           run: data.run });
  }
};
