// The page: controls, live figures, the loss chart, the decision-boundary plane and the Python panel.
// All Python runs in worker.js; this thread only draws, so it stays responsive during training.
// Every training message names its run; the page drops those of a run it has left (stopped or replaced).
import { LEARNING_RATES, Settings } from "./settings.js";
import { History, LossChart, NeuronMaps, Plane, formatLoss, percent, speedText } from "./views.js";
import { PythonPanel } from "./panel.js";
import { DigitsTab } from "./digits.js";

const $ = (id) => document.getElementById(id);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const GRID = 64;               // heat-map resolution (GRID x GRID predictions per chunk)
const INTERRUPT_GRACE_MS = 3000;  // a Stop Python the interpreter has not received by then restarts the worker
const INTERRUPT_POLL_MS = 50;

// What the tests (and the curious) can read: window.pyautodiffDemo
const state = { ready: false, readyMs: null, readyAt: null, info: null, interruptible: false, restarts: 0,
                model: null, running: false, run: 0, epoch: 0, target: 0, history: new History(), loss: null,
                testLoss: null, accuracy: null, testAccuracy: null, probabilities: null, elapsedMs: 0, timedEpochs: 0,
                stepUs: null,
                summary: null, data: null, outputs: [], stopLatencyMs: null, lastEnd: null };
window.pyautodiffDemo = state;

const settings = new Settings($("config"));
const chart = new LossChart($("loss-chart"));
const plane = new Plane($("boundary"), GRID);
const neurons = new NeuronMaps($("neurons"));
state.chart = chart;  // for the tests: its uPlot and what it shows
const buttons = { train: $("train"), stop: $("stop"), resume: $("resume"), step: $("step"),
                  save: $("save-weights"), load: $("load-weights") };

// ---- the worker: Pyodide, restarted when a Python run cannot be interrupted ------------------------------
// Where the page is cross-origin isolated, a SharedArrayBuffer lets Stop Python raise KeyboardInterrupt: [0] is
// Pyodide's interrupt buffer (2 = SIGINT), [1] counts the interrupts the worker's Python received.
const interrupt = self.crossOriginIsolated ? new Int32Array(new SharedArrayBuffer(8)) : null;
let worker = null;

function startWorker() {
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = (e) => { if (e.target === worker) onMessage(e.data); };
  worker.postMessage({ type: "init", interrupt });
}
const post = (msg, transfer) => worker.postMessage(msg, transfer);
const digits = new DigitsTab(post);
state.digits = digits.state;

function restartWorker(why) {
  worker.terminate();
  state.ready = false;
  state.restarts++;
  panel.abandoned(why);
  digits.setReady(false);
  setRunning(false);
  setStatus("restarting Python ...");
  startWorker();
}

// ---- status line -----------------------------------------------------------------------------------------
function setStatus(text, kind = "busy") {
  const el = byTestId("status");
  el.querySelector(".text").textContent = text;
  el.dataset.kind = kind;
}

// ---- training --------------------------------------------------------------------------------------------
const pace = () => Number($("f-speed").value);

function setRunning(running) {
  state.running = running;
  if (running) state.lastEnd = null;
  const focused = document.activeElement;
  buttons.train.disabled = !state.ready;
  buttons.stop.disabled = !running;
  buttons.resume.disabled = running || !state.ready || state.epoch >= state.target;
  buttons.step.disabled = running || !state.ready;
  buttons.save.disabled = buttons.load.disabled = !state.ready;
  document.body.classList.toggle("training", running);
  // a button that just went disabled under the keyboard hands focus on instead of dropping it to the page
  if (focused?.disabled) [buttons.resume, buttons.stop, buttons.train].find((b) => !b.disabled)?.focus();
}

function newModel() {
  if (!state.ready) return;
  const run = ++state.run;
  state.target = settings.used.epochs;
  post({ type: "new", run, config: { ...settings.config(), grid: GRID } });
  post({ type: "train", run, until: state.target, pace: pace() });
  setNote("");
  setRunning(true);
}

// continue the model shown, up to epoch `until`
function trainOn(until, paced) {
  if (!state.ready) return;
  const run = ++state.run;
  post({ type: "train", run, until, pace: paced ? pace() : 0 });
  setRunning(true);
}

let stopClickedAt = null;
function stop() {
  stopClickedAt = performance.now();
  post({ type: "stop", run: state.run });
  setRunning(false);  // whatever the worker still sends for this run only completes the figures
}

buttons.train.addEventListener("click", () => newModel());
buttons.stop.addEventListener("click", stop);
buttons.resume.addEventListener("click", () => trainOn(state.target, true));
buttons.step.addEventListener("click", () => trainOn(state.epoch + 1, false));

$("config").addEventListener("change", (e) => {
  const name = e.target.name;
  if (name === "optimizer" && settings.check(name)) {
    // each optimizer starts from a learning rate that suits it: Adam's 0.01 makes SGD look broken
    e.target.form.elements.learningRate.value = String(LEARNING_RATES[settings.used.optimizer]);
    settings.check("learningRate");
  }
  if (!settings.check(name)) return;  // marked inline; the last good value stays in use
  history.replaceState(null, "", `#${settings.hash()}`);
  if (name !== "speed") newModel();
  else if (state.running) post({ type: "pace", run: state.run, pace: pace() });  // the same run, at the new pace
});
$("config").addEventListener("submit", (e) => e.preventDefault());
window.addEventListener("hashchange", () => {
  if (location.hash.slice(1) === settings.hash()) return;
  settings.apply(Object.fromEntries(new URLSearchParams(location.hash.slice(1))));
  newModel();
});

// ---- figures, chart, plane -------------------------------------------------------------------------------
const lossText = (v) => (v === null || v === undefined ? "\u2013" : formatLoss(v, 4));

function showFigures() {
  byTestId("epoch").textContent = String(state.epoch);
  byTestId("loss").textContent = lossText(state.loss);
  byTestId("test-loss").textContent = lossText(state.testLoss);
  const test = state.testAccuracy !== null;  // with a test set, the figure that matters is the test accuracy
  $("accuracy-label").textContent = test ? "Test accuracy" : "Accuracy";
  byTestId("accuracy").textContent = percent(test ? state.testAccuracy : state.accuracy);
  byTestId("ms-per-epoch").textContent =
    state.timedEpochs ? (state.elapsedMs / state.timedEpochs).toFixed(2) : "\u2013";
  byTestId("step-speed").textContent = speedText(state.stepUs);
  const h = state.history;
  byTestId("loss-text").textContent = h.epochs.length
    ? `Train loss ${formatLoss(h.train[0])} at epoch ${h.epochs[0]}, ${lossText(state.loss)} at epoch ${state.epoch}` +
      (state.testLoss === null ? "." : `; test loss ${lossText(state.testLoss)}.`)
    : "No training yet.";
  const d = state.data;
  if (d) {
    byTestId("boundary-text").textContent = `${d.train.length} training points and ${d.test.length} test points;` +
      ` the model classifies ${percent(state.accuracy)} of the training points` +
      (state.testAccuracy === null ? "" : ` and ${percent(state.testAccuracy)} of the test points`) + " correctly.";
  }
}

function setEvaluation(data) {
  state.accuracy = data.accuracy;
  state.testAccuracy = data.test_accuracy ?? null;  // Python's None arrives as undefined
  if (data.probabilities) state.probabilities = plane.probabilities = data.probabilities;
  if (data.neurons) neurons.show(state.neurons = data.neurons);
}

function setNote(text) { byTestId("run-note").textContent = text; }

function announceEnd(reason) {
  const results = `train loss ${lossText(state.loss)}` +
    (state.testLoss === null ? "" : `, test loss ${lossText(state.testLoss)}`) +
    `, accuracy ${percent(state.accuracy)}` +
    (state.testAccuracy === null ? "" : ` (test ${percent(state.testAccuracy)})`);
  if (reason === "done") setNote(`Finished ${state.epoch} epochs: ${results}.`);
  else if (reason === "stopped") setNote(`Stopped at epoch ${state.epoch}: ${results}.`);
  else if (reason === "step") setNote(`Epoch ${state.epoch}: ${results}.`);
  else if (reason === "diverged") {
    setNote(`Diverged at epoch ${state.epoch}: the loss is no longer a finite number. Lower the learning rate.`);
  }
}

// ---- click (or keyboard) to add points -------------------------------------------------------------------
const canvas = $("boundary");
function addPoint([x1, x2]) {
  if (!state.ready) return;
  const label = Number(document.querySelector('input[name="add-class"]:checked').value);
  post({ type: "add", run: state.run, point: [x1, x2, label] });
}
canvas.addEventListener("click", (e) => {
  const r = canvas.getBoundingClientRect();
  addPoint(plane.toPlane((e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height));
});
canvas.addEventListener("focus", () => { plane.cursor ??= plane.toPlane(0.5, 0.5); plane.draw(); });
canvas.addEventListener("blur", () => plane.draw());
canvas.addEventListener("keydown", (e) => {
  const [lo, hi] = plane.data.plane;
  const d = (hi - lo) / 24;
  const move = { ArrowLeft: [-d, 0], ArrowRight: [d, 0], ArrowUp: [0, d], ArrowDown: [0, -d] }[e.key];
  const clamp = (v) => Math.min(hi, Math.max(lo, v));
  if (move) plane.cursor = [clamp(plane.cursor[0] + move[0]), clamp(plane.cursor[1] + move[1])];
  else if (e.key === "Enter" || e.key === " ") addPoint(plane.cursor);
  else return;
  e.preventDefault();
  plane.draw();
});

// ---- the page's tabs: the playground and the digits ------------------------------------------------------
// Leaving a tab stops its training, so the one shown has the worker to itself.
const pageTabs = [...document.querySelectorAll('.page-tabs [role="tab"]')];
function showTab(tab) {
  for (const t of pageTabs) {
    const selected = t === tab;
    t.setAttribute("aria-selected", selected);
    t.tabIndex = selected ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !selected;
  }
  if (tab.id === "tab-digits") {
    if (state.running) stop();
    digits.shown();
  } else {
    digits.stop();
    if (state.ready && state.run === 0) newModel();  // Python became ready while the digits were shown
    chart.plot.setSize(chart.size());
    plane.draw();
  }
}
pageTabs.forEach((tab, i) => {
  tab.addEventListener("click", () => showTab(tab));
  tab.addEventListener("keydown", (e) => {  // arrow keys move between the tabs, as a tablist's do
    const n = pageTabs.length;
    const to = { ArrowRight: (i + 1) % n, ArrowLeft: (i + n - 1) % n, Home: 0, End: n - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    showTab(pageTabs[to]);
    pageTabs[to].focus();
  });
});

// ---- weights as .safetensors -----------------------------------------------------------------------------
buttons.save.addEventListener("click", () => post({ type: "save" }));
buttons.load.addEventListener("click", () => $("weights-file").click());
$("weights-file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const bytes = await file.arrayBuffer();
  e.target.value = "";
  state.loadedFrom = file.name;
  post({ type: "load", run: state.run, bytes }, [bytes]);
});

function download(bytes) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  a.download = `pyautodiff-${settings.used.dataset}-${settings.used.hidden.join("x")}.safetensors`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 0);
}

// ---- Python panel ----------------------------------------------------------------------------------------
let interruptTimer = null;
let interrupted = null;  // the run a Stop Python was sent to: a second Stop for it restarts the worker
const panel = new PythonPanel({
  run: (id, code, filename) => {
    if (interrupt) Atomics.store(interrupt, 0, 0);
    post({ type: "run", id, code, filename });
  },
  stop: () => {
    if (!interrupt) {
      restartWorker("Stopped: this page is not cross-origin isolated, so Python was restarted (its variables " +
                    "and the model's training are lost).");
      return;
    }
    const id = panel.pending;
    if (interrupted === id) {  // the code caught KeyboardInterrupt and went on
      restartWorker("Stopped: the code went on after KeyboardInterrupt, so Python was restarted.");
      return;
    }
    interrupted = id;
    const received = Atomics.load(interrupt, 1);
    const t0 = performance.now();
    let unanswered = false;
    Atomics.store(interrupt, 0, 2);  // SIGINT: KeyboardInterrupt at the next bytecode
    clearInterval(interruptTimer);
    interruptTimer = setInterval(() => {
      if (panel.pending !== id || Atomics.load(interrupt, 1) !== received) {
        clearInterval(interruptTimer);
      } else if (performance.now() - t0 > INTERRUPT_GRACE_MS) {  // stuck outside Python bytecode (or ignoring it)
        clearInterval(interruptTimer);
        restartWorker("Stopped: Python did not answer the interrupt, so it was restarted.");
      } else {
        // Pyodide reads its buffer and then zeroes it, not atomically: a 2 written between the two is lost. A buffer
        // at 0 with nothing received for a whole poll is such a loss (a received one counts within microseconds).
        const lost = Atomics.load(interrupt, 0) === 0;
        if (lost && unanswered) Atomics.store(interrupt, 0, 2);
        unanswered = lost;
      }
    }, INTERRUPT_POLL_MS);
  },
  onBusy: (running) => {
    if (running) setStatus("running your Python ... (Stop Python interrupts it)");
    else if (state.ready) setStatus(state.readyText, "ready");
  },
});

// ---- messages from the worker ----------------------------------------------------------------------------
function onMessage(data) {
  const current = data.run === state.run;
  const shown = data.model === state.model;  // about the model on show (whichever run trained it)
  switch (data.type) {
    case "status":
      setStatus(state.restarts ? `restarting: ${data.text}` : data.text);  // (only ever sent while loading)
      byTestId("load-progress").value = data.step;
      break;
    case "ready": {
      const i = data.info;
      Object.assign(state, { ready: true, readyMs: data.ms, readyAt: performance.now(), stages: data.stages, info: i,
                             interruptible: data.interruptible });
      state.readyText = `ready \u00b7 pyautodiff ${i.version} \u00b7 ${i.binding} binding \u00b7 ${i.platform}` +
        `${i.simd ? ` \u00b7 SIMD ${8 * (i.simd_bytes || 16)}-bit` : ""} \u00b7 Pyodide ${data.pyodide}` +
        ` \u00b7 loaded in ${(data.ms / 1000).toFixed(1)} s`;
      setStatus(state.readyText, "ready");
      byTestId("load-progress").value = 3;
      byTestId("backend").textContent = `backend_info() = ${JSON.stringify(i)}` +
        (data.interruptible ? "" : " \u00b7 not cross-origin isolated: Stop Python restarts Python");
      panel.setReady(true);
      digits.setReady(true);
      if (!$("playground").hidden) newModel();
      break;
    }
    case "started":
      if (!current) break;
      Object.assign(state, { model: data.run, epoch: 0, loss: null, testLoss: null, elapsedMs: 0, timedEpochs: 0,
                             stepUs: null,
                             summary: data.summary, data: data.data });
      state.history.clear();
      setEvaluation(data);
      plane.data = data.data;
      byTestId("model-summary").textContent = data.summary.text;
      chart.show(state.history);
      plane.draw();
      showFigures();
      break;
    case "progress": {
      if (!shown) break;
      const first = data.epoch - data.losses.length;
      data.losses.forEach((loss, i) => state.history.push(first + i + 1, loss, data.test_losses[i]));
      Object.assign(state, { epoch: data.epoch, loss: data.losses.at(-1), testLoss: data.test_losses.at(-1) ?? null });
      state.elapsedMs += data.elapsed_ms;
      state.stepUs = data.step_us ?? state.stepUs;
      state.timedEpochs += data.losses.length;
      setEvaluation(data);
      chart.show(state.history);
      plane.draw();
      showFigures();
      break;
    }
    case "ended":
      if (!current) break;
      state.lastEnd = data.reason;
      if (data.reason === "stopped") state.stopLatencyMs = performance.now() - stopClickedAt;
      setRunning(false);
      announceEnd(data.reason);
      break;
    case "refresh":  // after the panel's code ran, or weights were loaded: the model may have changed
      if (!shown) break;
      setEvaluation(data);
      plane.draw();
      showFigures();
      if (data.run !== null && current) setNote(`Loaded weights from ${state.loadedFrom}.`);
      break;
    case "data":
      if (!shown) break;
      state.data = plane.data = data.data;
      setEvaluation(data);
      plane.draw();
      showFigures();
      break;
    case "weights":
      download(data.bytes);
      break;
    case "digits-started": case "digits-progress": case "digits-ended": case "digits-prediction":
    case "digits-sample":
      digits.message(data);
      break;
    case "stdout":
      panel.append(data.id, data.text);
      break;
    case "output":
      clearInterval(interruptTimer);
      panel.finished(data);
      state.outputs.push(data);
      break;
    case "error":
      if (data.during === "init") setStatus(data.text, "error");
      else if (data.during.startsWith("digits")) digits.failed(data.text);
      else if (data.during === "run") panel.failed(data.id, data.text);
      else if (data.during === "load") setNote(`Could not load the weights: ${data.text}`);
      else if (current) { setRunning(false); setNote(`Training failed: ${data.text}`); }
      break;
  }
}

setRunning(false);
startWorker();
panel.load(new URL("manifest.json", import.meta.url).href);
plane.draw();
