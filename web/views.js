// The loss chart (uPlot, log scale, train and test) and the decision-boundary plane (heat map and points).
// Colours come from the stylesheet's custom properties, so dark mode and the page agree.

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const MAX_POINTS = 1000;  // the chart keeps at most 2 * MAX_POINTS epochs: older ones are thinned out

// Losses that stay distinct at any size: from 0.001 on as decimals, smaller and huge ones as 1e-5 (ticks)
// or 4.640e-4 (figures, with `digits` significant digits).
export function formatLoss(v, digits = 1) {
  if (v === null || v === undefined) return "";
  if (v === 0 || !Number.isFinite(v)) return String(v);
  if (v >= 1e-3 && v < 1e5) return String(Number(v.toPrecision(Math.max(digits, 3))));
  return v.toExponential(digits - 1).replace("e+", "e");
}

export const percent = (v) => (v === null || v === undefined ? "\u2013" : `${Math.round(v * 100)}%`);

// the measured-speed line: the median time of one training step, measured in the worker
export const speedText = (us) =>
  `this step: ${us === null || us === undefined ? "\u2013" : `${Math.round(us)} \u00b5s`} in your browser`;

// Loss history, bounded: past 2 * MAX_POINTS entries every other older one is dropped (the newest stays).
export class History {
  constructor() { this.clear(); }

  clear() { this.epochs = []; this.train = []; this.test = []; }

  push(epoch, train, test) {
    this.epochs.push(epoch);
    this.train.push(train);
    this.test.push(test ?? null);
    if (this.epochs.length > 2 * MAX_POINTS) {
      const keep = (_, i, all) => (all.length - 1 - i) % 2 === 0;
      this.epochs = this.epochs.filter(keep);
      this.train = this.train.filter(keep);
      this.test = this.test.filter(keep);
    }
  }
}

export class LossChart {
  constructor(el) {
    this.el = el;
    this.data = [[], [], []];
    this.build();
    new ResizeObserver(() => this.plot.setSize(this.size())).observe(el);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.build());
  }

  size() { return { width: this.el.clientWidth || 600, height: this.el.clientHeight || 240 }; }

  build() {
    this.plot?.destroy();
    const axis = { stroke: css("--muted"), grid: { stroke: css("--grid") }, ticks: { stroke: css("--line") } };
    // wide enough for the longest tick label, so large losses are never cut off
    const ySize = (u, values) => 18 + 7 * Math.max(4, ...(values || []).map((v) => v.length));
    this.plot = new uPlot({
      ...this.size(),
      scales: { x: { time: false }, y: { distr: 3 } },
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: "epoch" },
        { label: "train", stroke: css("--accent"), width: 2, points: { show: false } },
        { label: "test", stroke: css("--test"), width: 2, dash: [6, 4], points: { show: false } },
      ],
      axes: [
        { ...axis, label: "epoch" },
        { ...axis, label: "loss (log scale)", size: ySize, values: (u, splits) => splits.map((v) => formatLoss(v)) },
      ],
    }, this.data, this.el);
  }

  show(history) {
    const positive = (v) => (v === null ? null : Math.max(v, 1e-12));  // a log scale has no 0
    this.data = [history.epochs.slice(), history.train.map(positive), history.test.map(positive)];
    this.plot.setData(this.data);
  }
}

const CLASS_VARS = ["--class0", "--class1"];

export class Plane {
  constructor(canvas, grid) {
    this.canvas = canvas;
    this.grid = grid;
    this.heat = document.createElement("canvas");
    this.heat.width = this.heat.height = grid;
    this.probabilities = null;
    this.data = { train: [], test: [], plane: [-6, 6] };
    this.cursor = null;  // the keyboard's cross, in plane coordinates
    new ResizeObserver(() => this.draw()).observe(canvas);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.draw());
  }

  // plane coordinates of a point given as fractions of the canvas (0..1 from the left and from the top)
  toPlane(fx, fy) {
    const [lo, hi] = this.data.plane;
    return [lo + fx * (hi - lo), hi - fy * (hi - lo)];
  }

  draw() {
    const dpr = window.devicePixelRatio || 1;
    const size = Math.round(this.canvas.clientWidth * dpr);
    if (!size) return;
    if (this.canvas.width !== size) this.canvas.width = this.canvas.height = size;
    const ctx = this.canvas.getContext("2d");
    const colors = CLASS_VARS.map((v) => css(v).split(",").map(Number));
    const base = css("--plane").split(",").map(Number);
    ctx.fillStyle = `rgb(${base})`;
    ctx.fillRect(0, 0, size, size);
    if (this.probabilities) {
      const g = this.grid;
      const image = this.heat.getContext("2d").createImageData(g, g);
      for (let k = 0; k < g * g; k++) {
        const p = this.probabilities[k];
        const tint = p < 0.5 ? colors[0] : colors[1];
        const strength = Math.abs(p - 0.5) * 2 * 0.55;  // the background at the boundary, tinted towards each class
        for (let c = 0; c < 3; c++) image.data[4 * k + c] = base[c] + (tint[c] - base[c]) * strength;
        image.data[4 * k + 3] = 255;
      }
      this.heat.getContext("2d").putImageData(image, 0, 0);
      // grid point i sits at i / (g - 1) of the plane: centre each heat pixel on its point
      const step = size / (g - 1);
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(this.heat, -step / 2, -step / 2, g * step, g * step);
    }
    const [lo, hi] = this.data.plane;
    const toPx = (v) => ((v - lo) / (hi - lo)) * size;
    const unit = (hi - lo) > 6 ? 2 : 1;
    ctx.strokeStyle = css("--grid-on-plane");
    ctx.lineWidth = dpr;
    ctx.fillStyle = css("--muted");
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    for (let v = Math.ceil(lo / unit) * unit; v < hi; v += unit) {
      if (v === lo) continue;
      ctx.beginPath();
      ctx.moveTo(toPx(v), 0); ctx.lineTo(toPx(v), size);
      ctx.moveTo(0, size - toPx(v)); ctx.lineTo(size, size - toPx(v));
      ctx.stroke();
      ctx.fillText(String(v), toPx(v) + 3 * dpr, size - 4 * dpr);
      ctx.fillText(String(v), 4 * dpr, size - toPx(v) - 3 * dpr);
    }
    const radius = (this.data.train.length > 50 ? 4 : 7) * dpr;
    const dot = ([x1, x2, label], test) => {
      ctx.beginPath();
      ctx.arc(toPx(x1), size - toPx(x2), radius, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${colors[label]})`;
      ctx.fill();
      ctx.lineWidth = (test ? 2 : 1.5) * dpr;
      ctx.strokeStyle = test ? css("--ink") : `rgb(${base})`;
      ctx.stroke();
    };
    this.data.train.forEach((p) => dot(p, false));
    this.data.test.forEach((p) => dot(p, true));
    if (this.cursor && document.activeElement === this.canvas) {
      const [x, y] = [toPx(this.cursor[0]), size - toPx(this.cursor[1])];
      ctx.strokeStyle = css("--ink");
      ctx.lineWidth = 2 * dpr;
      ctx.beginPath();
      ctx.moveTo(x - 10 * dpr, y); ctx.lineTo(x + 10 * dpr, y);
      ctx.moveTo(x, y - 10 * dpr); ctx.lineTo(x, y + 10 * dpr);
      ctx.stroke();
    }
  }
}

// Each hidden unit's output over the plane, TensorFlow Playground style: one small map per unit of the first
// layers, orange where it is positive, blue where negative, scaled per layer.
export class NeuronMaps {
  constructor(el) {
    this.el = el;
    this.maps = [];
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.show(this.maps));
  }

  show(maps) {
    this.maps = maps;
    const colors = CLASS_VARS.map((v) => css(v).split(",").map(Number));
    const base = css("--plane").split(",").map(Number);
    this.el.replaceChildren(...maps.map((layer, l) => {
      const row = document.createElement("div");
      row.className = "neuron-row";
      row.textContent = `layer ${l + 1}`;
      const scale = Math.max(1e-6, ...layer.flat().map(Math.abs));
      for (const values of layer) {
        const n = Math.round(Math.sqrt(values.length));
        const c = document.createElement("canvas");
        c.width = c.height = n;
        const image = c.getContext("2d").createImageData(n, n);
        values.forEach((v, k) => {
          const tint = v < 0 ? colors[0] : colors[1];
          for (let i = 0; i < 3; i++) image.data[4 * k + i] = base[i] + (tint[i] - base[i]) * Math.abs(v) / scale;
          image.data[4 * k + 3] = 255;
        });
        c.getContext("2d").putImageData(image, 0, 0);
        row.append(c);
      }
      return row;
    }));
  }
}
