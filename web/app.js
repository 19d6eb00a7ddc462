// The page: controls, live figures, the loss chart (uPlot), the decision-boundary heat map and the Python
// panel. All Python runs in worker.js; this thread only draws, so it stays responsive during training.
const $ = (id) => document.getElementById(id);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

const GRID = 64;                       // heat-map resolution (GRID x GRID predictions per chunk)
const PLANE = [0, 5];                  // demo.py's PLANE
const POINTS = [[1, 3], [1, 4], [2, 4], [3, 1], [4, 1], [4, 2]];
const LABELS = [0, 0, 0, 1, 1, 1];
const COLORS = [[37, 99, 235], [234, 88, 12]];   // class 0, class 1

// What the tests (and the curious) can read: window.pyautodiffDemo
const state = { ready: false, readyMs: null, readyAt: null, info: null, running: false, run: 0, epoch: 0, history: [],
                elapsedMs: 0, accuracy: null, summary: null, outputs: [], stopLatencyMs: null };
window.pyautodiffDemo = state;

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });

// ---- status line -----------------------------------------------------------------------------------------
function setStatus(text, kind = "busy") {
  const el = byTestId("status");
  el.querySelector(".text").textContent = text;
  el.dataset.kind = kind;
}

// ---- loss chart ------------------------------------------------------------------------------------------
const chartEl = $("loss-chart");
const chart = new uPlot({
  width: chartEl.clientWidth || 600,
  height: chartEl.clientHeight || 240,
  scales: { x: { time: false }, y: { distr: 3 } },
  legend: { show: false },
  cursor: { drag: { x: false, y: false } },
  series: [
    { label: "epoch" },
    { label: "loss", stroke: "#4f46e5", width: 2, fill: "rgba(79, 70, 229, 0.08)", points: { show: false } },
  ],
  axes: [
    { label: "epoch", stroke: "#64748b", grid: { stroke: "#eef2f7" }, ticks: { stroke: "#e2e8f0" } },
    { label: "loss (log scale)", stroke: "#64748b", grid: { stroke: "#eef2f7" }, ticks: { stroke: "#e2e8f0" },
      size: 60 },
  ],
}, [[], []], chartEl);
new ResizeObserver(() => chart.setSize({ width: chartEl.clientWidth, height: chartEl.clientHeight })).observe(chartEl);

function redrawChart() {
  const xs = state.history.map((_, i) => i + 1);
  chart.setData([xs, state.history.map((v) => Math.max(v, 1e-12))]);
}

// ---- decision boundary -----------------------------------------------------------------------------------
const canvas = $("boundary");
const heat = document.createElement("canvas");
heat.width = heat.height = GRID;
let probabilities = null;

function drawBoundary() {
  const dpr = window.devicePixelRatio || 1;
  const size = Math.round(canvas.clientWidth * dpr);
  if (canvas.width !== size) canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#f8fafc";
  ctx.fillRect(0, 0, size, size);
  if (probabilities) {
    const image = heat.getContext("2d").createImageData(GRID, GRID);
    for (let k = 0; k < GRID * GRID; k++) {
      const p = probabilities[k];
      const [r, g, b] = p < 0.5 ? COLORS[0] : COLORS[1];
      const strength = Math.abs(p - 0.5) * 2 * 0.55;  // white at the boundary, tinted towards each class
      image.data[4 * k] = 255 + (r - 255) * strength;
      image.data[4 * k + 1] = 255 + (g - 255) * strength;
      image.data[4 * k + 2] = 255 + (b - 255) * strength;
      image.data[4 * k + 3] = 255;
    }
    heat.getContext("2d").putImageData(image, 0, 0);
    // grid point i sits at i / (GRID - 1) of the plane: centre each heat pixel on its point
    const step = size / (GRID - 1);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(heat, -step / 2, -step / 2, GRID * step, GRID * step);
  }
  const [lo, hi] = PLANE;
  const toPx = (v) => ((v - lo) / (hi - lo)) * size;
  ctx.strokeStyle = "rgba(15, 23, 42, 0.08)";
  ctx.lineWidth = dpr;
  ctx.fillStyle = "#64748b";
  ctx.font = `${11 * dpr}px system-ui, sans-serif`;
  for (let v = lo + 1; v < hi; v++) {
    ctx.beginPath();
    ctx.moveTo(toPx(v), 0); ctx.lineTo(toPx(v), size);
    ctx.moveTo(0, size - toPx(v)); ctx.lineTo(size, size - toPx(v));
    ctx.stroke();
    ctx.fillText(String(v), toPx(v) + 3 * dpr, size - 4 * dpr);
    ctx.fillText(String(v), 4 * dpr, size - toPx(v) - 3 * dpr);
  }
  POINTS.forEach(([x1, x2], i) => {
    ctx.beginPath();
    ctx.arc(toPx(x1), size - toPx(x2), 7 * dpr, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${COLORS[LABELS[i]].join(",")})`;
    ctx.fill();
    ctx.lineWidth = 2.5 * dpr;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
  });
}
new ResizeObserver(drawBoundary).observe(canvas);

// ---- training --------------------------------------------------------------------------------------------
const form = $("config");
const trainButton = $("train");
const stopButton = $("stop");

function readConfig() {
  const f = new FormData(form);
  const number = (name, fallback) => {
    const v = Number(f.get(name));
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return { hidden: Math.round(number("hidden", 128)), activation: f.get("activation"),
           optimizer: f.get("optimizer"), learningRate: number("learningRate", 0.001),
           epochs: Math.round(number("epochs", 100)), grid: GRID };
}

function showFigures() {
  byTestId("epoch").textContent = String(state.epoch);
  const last = state.history[state.history.length - 1];
  byTestId("loss").textContent = last === undefined ? "\u2013" : String(Number(last.toPrecision(4)));
  byTestId("accuracy").textContent = state.accuracy === null ? "\u2013" : `${Math.round(state.accuracy * 100)}%`;
  byTestId("ms-per-epoch").textContent = state.epoch ? (state.elapsedMs / state.epoch).toFixed(2) : "\u2013";
}

function setRunning(running) {
  state.running = running;
  trainButton.textContent = running ? "Restart" : "Train";
  stopButton.disabled = !running;
  trainButton.disabled = !state.ready;
  document.body.classList.toggle("training", running);
}

function startTraining() {
  if (!state.ready) return;
  worker.postMessage({ type: "train", config: readConfig() });
  setRunning(true);
}

trainButton.addEventListener("click", startTraining);
let stopClickedAt = null;
stopButton.addEventListener("click", () => {
  stopClickedAt = performance.now();
  worker.postMessage({ type: "stop" });
  stopButton.disabled = true;
});
form.addEventListener("change", startTraining);
form.addEventListener("submit", (e) => { e.preventDefault(); startTraining(); });

// ---- Python panel ----------------------------------------------------------------------------------------
const code = $("code");
const output = $("output");
let examples = [];
let current = -1;  // the selected example
let runCounter = 0;

function selectExample(i) {
  if (examples[current]) examples[current].text = code.value;
  current = i;
  code.value = examples[i].text;
  document.querySelectorAll("#example-tabs button").forEach((b, k) => b.setAttribute("aria-selected", k === i));
  output.textContent = "";
  output.className = "";
  byTestId("python-time").textContent = "";
}

async function loadExamples() {
  const manifest = await (await fetch(new URL("manifest.json", import.meta.url))).json();
  examples = await Promise.all(manifest.examples.map(async ({ title, file }) => {
    const text = await (await fetch(new URL(file, import.meta.url))).text();
    return { title, original: text, text };
  }));
  const tabs = $("example-tabs");
  examples.forEach((ex, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.role = "tab";
    b.textContent = ex.title;
    b.dataset.testid = `example-${i + 1}`;
    b.addEventListener("click", () => selectExample(i));
    tabs.append(b);
  });
  selectExample(0);
}

$("run").addEventListener("click", () => {
  const id = ++runCounter;
  output.textContent = "running ...";
  output.className = "pending";
  byTestId("python-time").textContent = "";
  worker.postMessage({ type: "run", id, code: code.value });
});
$("reset").addEventListener("click", () => {
  examples[current].text = examples[current].original;
  code.value = examples[current].original;
});
code.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $("run").click(); }
  else if (e.key === "Tab" && !e.shiftKey) {
    e.preventDefault();
    code.setRangeText("    ", code.selectionStart, code.selectionEnd, "end");
  }
});

// ---- messages from the worker ----------------------------------------------------------------------------
worker.onmessage = ({ data }) => {
  switch (data.type) {
    case "status":
      setStatus(data.text);
      break;
    case "ready": {
      const i = data.info;
      state.ready = true;
      state.readyMs = data.ms;
      state.readyAt = performance.now();  // since navigation start
      state.stages = data.stages;
      state.info = i;
      setStatus(`ready \u00b7 pyautodiff ${i.version} \u00b7 ${i.binding} binding \u00b7 ${i.platform}` +
                `${i.simd ? ` \u00b7 SIMD ${8 * (i.simd_bytes || 16)}-bit` : ""} \u00b7 Pyodide ${data.pyodide}` +
                ` \u00b7 loaded in ${(data.ms / 1000).toFixed(1)} s`, "ready");
      byTestId("backend").textContent = `backend_info() = ${JSON.stringify(i)}`;
      $("run").disabled = false;
      trainButton.disabled = false;
      startTraining();
      break;
    }
    case "started":
      state.run = data.run;
      state.epoch = 0;
      state.history = [];
      state.elapsedMs = 0;
      state.accuracy = null;
      state.summary = data.summary;
      byTestId("model-summary").textContent = data.summary.text;
      probabilities = data.probabilities;
      redrawChart();
      drawBoundary();
      showFigures();
      break;
    case "progress":
      if (data.run !== state.run) break;
      state.epoch = data.epoch;
      state.history.push(...data.losses);
      state.elapsedMs += data.elapsed_ms;
      state.accuracy = data.accuracy;
      probabilities = data.probabilities;
      redrawChart();
      drawBoundary();
      showFigures();
      break;
    case "finished":
      if (data.run === state.run) setRunning(false);
      break;
    case "stopped":
      state.stopLatencyMs = stopClickedAt === null ? null : performance.now() - stopClickedAt;
      setRunning(false);
      break;
    case "output":
      if (data.id !== runCounter) break;
      output.textContent = data.output || "(no output)";
      output.className = data.ok ? "ok" : "failed";
      byTestId("python-time").textContent = `${data.elapsed_ms.toFixed(0)} ms`;
      state.outputs.push(data);
      break;
    case "error":
      if (data.during === "init") setStatus(data.text, "error");
      else if (data.during === "run") { output.textContent = data.text; output.className = "failed"; }
      else { setRunning(false); setStatus(`training failed: ${data.text}`, "error"); }
      break;
  }
};

loadExamples();
drawBoundary();
