// The browser benchmark: pyautodiff in Pyodide vs TensorFlow.js 4.22 (cpu and wasm backends), one page.
//
// bench_browser.py (through driver.py) calls window.runBench(config) and gets every timing back. Pyodide runs
// on this page's main thread, like TF.js, so both share one thread and one event loop; builds of the wheel
// compiled otherwise (e.g. without -msimd128) run in workers, since one Pyodide can hold one build only.
// Each implementation times its own loop of `number` calls (Python: time.perf_counter in Python; TF.js:
// performance.now() in JS) and the rounds of all implementations of a case are interleaved, as in
// bench/common.py's measure_many.
import { loadOurs } from "./pyodide_host.js";

const logBox = document.getElementById("log");
const log = (text) => { console.log(`[bench] ${text}`); logBox.textContent += text + "\n"; };
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

// --- TensorFlow.js ------------------------------------------------------------------------------

async function useBackend(name) {
  if (tf.getBackend() !== name) {
    if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend("${name}") failed`);
    await tf.ready();
  }
}

function timeLoop(fn) {
  return async (number) => {
    const t0 = performance.now();
    for (let i = 0; i < number; i++) fn();
    return (performance.now() - t0) / 1000 / number;
  };
}

function tfMatmul(backend, m) {
  const a = tf.tensor2d(m.a), b = tf.tensor2d(m.b);
  const call = () => { const c = tf.matMul(a, b); const v = c.dataSync(); c.dispose(); return v; };
  return { backend, run: timeLoop(call), check: async () => Array.from(call().subarray(0, m.b[0].length)) };
}

// A stride-1 valid conv2d whose gradients use only kernels the wasm backend has: TF.js 4.22's wasm backend
// registers no Conv2DBackpropFilter (tf.conv2d's own gradient throws there), so the filter gradient is written as
// the forward convolution it is (x with batch and channels swapped, by dy as the filter) and the input gradient
// is conv2dTranspose (Conv2DBackpropInput, which it has). The same code runs on the cpu backend.
const conv2dValid = tf.customGrad((x, w, save) => {
  save([x, w]);
  return {
    value: tf.conv2d(x, w, 1, "valid"),
    gradFunc: (dy, [x, w]) => [
      tf.conv2dTranspose(dy, w, x.shape, 1, "valid"),
      tf.transpose(tf.conv2d(tf.transpose(x, [3, 1, 2, 0]), tf.transpose(dy, [1, 2, 0, 3]), 1, "valid"), [1, 2, 0, 3]),
    ],
  };
});

// the LeNet-style CNN (bench/bench_cnn.py): two 3x3 valid convolutions with relu, each then a 2x2 max pool,
// flattened (NHWC, as ours) into the dense layer
function cnnLogits(x, vars) {
  let h = x;
  for (let i = 0; i < 4; i += 2) h = tf.maxPool(tf.relu(tf.add(conv2dValid(h, vars[i]), vars[i + 1])), 2, 2, "valid");
  return tf.add(tf.matMul(tf.reshape(h, [h.shape[0], -1]), vars[4]), vars[5]);
}

// An embedding lookup of the rows `ids` whose gradient is a scatterND (duplicate ids summed): TF.js 4.22's wasm
// backend registers no UnsortedSegmentSum, which tf.gather's own gradient (so tf.layers.embedding's) needs
const embeddingLookup = (ids) => tf.customGrad((table, save) => ({
  value: tf.gather(table, ids),
  gradFunc: (dy) => tf.scatterND(tf.reshape(ids, [-1, 1]), tf.reshape(dy, [-1, table.shape[1]]), table.shape),
}));

// bench/bench_lstm.py's Embedding -> LSTM -> Dense: tf.layers.lstm and dense, which keep Keras' weight layout and
// gate order (the recurrent activation set to Keras 3's sigmoid: TF.js defaults to hardSigmoid), their weights set
// as ours after a first call builds them
function lstmStack(c, x) {
  const [[embeddings], [, recurrentKernel], [, denseBias]] = c.params;
  const table = tf.variable(tf.tensor(embeddings));
  const lstm = tf.layers.lstm({ units: recurrentKernel.length, recurrentActivation: "sigmoid" });
  const dense = tf.layers.dense({ units: denseBias.length });
  const logits = (ids) => dense.apply(lstm.apply(embeddingLookup(ids)(table)));
  tf.tidy(() => {
    logits(x);
    [lstm, dense].forEach((layer, i) => layer.setWeights(c.params[i + 1].map((w) => tf.tensor(w))));
  });
  return { vars: [table, ...[lstm, dense].flatMap((l) => l.trainableWeights.map((w) => w.read()))], logits };
}

function tfStep(backend, c, kind) {
  const x = tf.tensor(c.x, undefined, kind === "lstm" ? "int32" : "float32");
  let vars, logits;
  if (kind === "lstm") ({ vars, logits } = lstmStack(c, x));
  else {
    vars = c.params.flatMap(([w, b]) => [tf.variable(tf.tensor(w)), tf.variable(tf.tensor1d(b))]);
    const act = kind === "seed" ? tf.sigmoid : tf.relu;
    logits = kind === "cnn" ? (h) => cnnLogits(h, vars) : (h) => {
      for (let i = 0; i < vars.length; i += 2) {
        h = tf.add(tf.matMul(h, vars[i]), vars[i + 1]);
        if (i < vars.length - 2) h = act(h);
      }
      return h;
    };
  }
  const y = kind === "mlp" ? tf.tensor2d(c.y) : tf.tensor1d(c.y, "int32");
  const classes = c.params[c.params.length - 1][1].length;
  const optimizer = tf.train.adam(c.lr, 0.9, 0.999, 1e-7);
  const lossFn = () => kind === "mlp" ? tf.losses.meanSquaredError(y, logits(x))
                                      : tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), logits(x));
  const step = () => {  // dataSync(): the step is complete when its loss is read
    const loss = optimizer.minimize(lossFn, true, vars);
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  };
  return {
    backend, run: timeLoop(step),
    check: async (n) => { const out = []; for (let i = 0; i < n; i++) out.push(step()); return out; },
  };
}

// --- pyautodiff ---------------------------------------------------------------------------------

function ourImpl(ours, name) {
  return { run: async (number) => ours.timeCalls(name, number), check: async (n) => ours.check(name, n) };
}

function startWorker(wheel, config, groups) {
  const worker = new Worker(new URL("worker.js", import.meta.url), { type: "module" });
  const pending = new Map();
  let next = 0;
  worker.onmessage = ({ data }) => {
    const { resolve, reject } = pending.get(data.id);
    pending.delete(data.id);
    data.error ? reject(new Error(data.error)) : resolve(data.value);
  };
  worker.onerror = (e) => { for (const p of pending.values()) p.reject(new Error(`worker: ${e.message}`)); };
  const call = (msg) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, ...msg });
  });
  return { call, terminate: () => worker.terminate(),
           loaded: call({ op: "load", wheel, config, groups }) };
}

function workerImpl(w, name) {
  return { run: (number) => w.call({ op: "time", name, number }), check: (n) => w.call({ op: "check", name, n }) };
}

// --- timing (bench/common.py's _calibrate and measure_many) -------------------------------------

async function calibrate(impl, mode) {
  if (impl.backend) await useBackend(impl.backend);
  await impl.run(1);  // first call: traces a Function, builds Adam's slots, compiles kernels
  let number = 1, perCall;
  for (;;) {  // batches of doubling size: performance.now() is coarse (100 us) without cross-origin isolation
    perCall = await impl.run(number);
    if (perCall * number >= Math.max(mode.min_round_s / 2, 0.002) || number >= 1 << 20) break;
    number *= 2;
  }
  const t0 = performance.now();
  while ((performance.now() - t0) / 1000 < mode.warmup_s) perCall = Math.min(perCall, await impl.run(number));
  perCall = Math.max(perCall, 1e-9);
  number = Math.max(1, Math.floor(mode.min_round_s / perCall));
  const rounds = Math.max(3, Math.min(mode.rounds, Math.floor(mode.max_measure_s / (perCall * number))));
  return { number, rounds };
}

async function measureMany(impls, mode) {
  const plan = {};
  for (const [name, impl] of Object.entries(impls)) plan[name] = await calibrate(impl, mode);
  const times = Object.fromEntries(Object.keys(impls).map((k) => [k, []]));
  const most = Math.max(...Object.values(plan).map((p) => p.rounds));
  for (let r = 0; r < most; r++) {
    for (const [name, impl] of Object.entries(impls)) {
      if (r >= plan[name].rounds) continue;
      if (impl.backend) await useBackend(impl.backend);
      times[name].push(await impl.run(plan[name].number));
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, t]) => [name, {
    median_s: median(t), min_s: Math.min(...t), max_s: Math.max(...t), rounds: t.length, number: plan[name].number,
  }]));
}

// --- the run ------------------------------------------------------------------------------------

window.runBench = async (config) => {
  const t0 = performance.now();
  const info = { userAgent: navigator.userAgent, crossOriginIsolated: self.crossOriginIsolated,
                 hardwareConcurrency: navigator.hardwareConcurrency, tfjs: tf.version.tfjs };
  log("loading pyautodiff in Pyodide on the page ...");
  const ours = await loadOurs(config.wheel);
  const names = ours.setup(config, config.groups.join(","));
  info.pyautodiff = { ...ours.info(), pyodide: ours.version, impls: names };
  const workers = [];
  for (const v of config.variants) {
    log(`loading the ${v.label} build in a worker ...`);
    const w = startWorker(v.wheel, config, "matmul");
    workers.push({ ...v, w, info: await w.loaded });
  }
  info.variants = workers.map((v) => ({ label: v.label, wheel: v.wheel, ...v.info.info }));

  tf.wasm.setWasmPaths("/tfjs-wasm/");
  if (config.tfjsThreads) tf.wasm.setThreadsCount(config.tfjsThreads);  // used only when cross-origin isolated
  const backends = {};
  for (const b of ["cpu", "wasm"]) {
    await useBackend(b);
    backends[b] = {};
  }
  info.tfjsWasm = {
    simd: await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"),
    multithread: await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"),
    threads: tf.wasm.getThreadsCount ? tf.wasm.getThreadsCount() : null,
  };

  const cases = [
    ["matmul", config.names.matmul, async () => ({
      "pyautodiff": ourImpl(ours, "matmul"),
      ...Object.fromEntries(workers.map((v) => [`pyautodiff ${v.label} (worker)`, workerImpl(v.w, "matmul")])),
      ...await tfImpls((b) => tfMatmul(b, config.matmul)),
    })],
    ["seed", config.names.seed, async () => ({
      "pyautodiff eager": ourImpl(ours, "seed eager"), "pyautodiff Function": ourImpl(ours, "seed Function"),
      ...await tfImpls((b) => tfStep(b, config.seed, "seed")),
    })],
    ["mlp", config.names.mlp, async () => ({
      "pyautodiff eager": ourImpl(ours, "mlp eager"), "pyautodiff Function": ourImpl(ours, "mlp Function"),
      ...await tfImpls((b) => tfStep(b, config.mlp, "mlp")),
    })],
    ["cnn", config.names.cnn, async () => ({
      "pyautodiff eager": ourImpl(ours, "cnn eager"), "pyautodiff Function": ourImpl(ours, "cnn Function"),
      ...await tfImpls((b) => tfStep(b, config.cnn, "cnn")),
    })],
    ["lstm", config.names.lstm, async () => ({
      "pyautodiff eager": ourImpl(ours, "lstm eager"), "pyautodiff Function": ourImpl(ours, "lstm Function"),
      ...await tfImpls((b) => tfStep(b, config.lstm, "lstm")),
    })],
  ];
  async function tfImpls(make) {
    const out = {};
    for (const b of ["cpu", "wasm"]) { await useBackend(b); out[`tfjs ${b}`] = make(b); }
    return out;
  }

  const rows = [];
  for (const [key, caseName, build] of cases) {
    if (!config.groups.includes(key)) continue;
    const impls = await build();
    const checks = {};
    for (const [name, impl] of Object.entries(impls)) {
      if (impl.backend) await useBackend(impl.backend);
      checks[name] = await impl.check(config.checkSteps);
    }
    log(`${caseName}: measuring ${Object.keys(impls).join(", ")}`);
    const timings = await measureMany(impls, config.mode);
    for (const [name, t] of Object.entries(timings)) {
      rows.push({ case: caseName, impl: name, ...t, check: checks[name] });
      log(`  ${name.padEnd(32)} ${(t.median_s * 1e3).toFixed(3)} ms`);
    }
  }
  for (const b of ["cpu", "wasm"]) { await useBackend(b); info[`tfjsTensors_${b}`] = tf.memory().numTensors; }
  workers.forEach((v) => v.w.terminate());
  info.seconds = (performance.now() - t0) / 1000;
  return { info, rows };
};
window.benchReady = true;
