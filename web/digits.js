// The digits tab: the CNN's training figures, a drawing pad (mouse, pen or touch) whose strokes become an 8x8
// image the way the digits were made, and the network's live probability for each digit.
//
// The digits are 32x32 bitmaps of handwriting, size-normalized, whose 4x4 blocks were counted (0..16 on cells):
// the pad fits the strokes' bounding box into a 32x32 box, draws them with a fixed pen, and counts the same way.

import { percent, speedText } from "./views.js";

const $ = (id) => document.getElementById(id);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const BOX = 32;     // the bitmap the strokes are drawn into ...
const BLOCK = 4;    // ... and the blocks counted per pixel of the 8x8 image
const PEN = 4.5;    // the pen's width in the 32x32 box, about the digits' own strokes
const PAD_PEN = 0.06;  // the pen's width on the pad, as a fraction of its side

// 64 counts 0..16, row by row, from strokes (arrays of [x, y] points as fractions of the pad)
export function downsample(strokes, canvas) {
  const points = strokes.flat();
  if (!points.length) return new Array(64).fill(0);
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = (BOX - PEN) / Math.max(x1 - x0, y1 - y0, 0.05);  // a dot stays a dot, not the whole box
  const at = ([x, y]) => [BOX / 2 + (x - (x0 + x1) / 2) * scale, BOX / 2 + (y - (y0 + y1) / 2) * scale];
  canvas.width = canvas.height = BOX;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.clearRect(0, 0, BOX, BOX);
  drawStrokes(ctx, strokes.map((s) => s.map(at)), PEN);
  const alpha = ctx.getImageData(0, 0, BOX, BOX).data;
  const counts = new Array(64).fill(0);
  for (let y = 0; y < BOX; y++) {
    for (let x = 0; x < BOX; x++) {
      if (alpha[4 * (y * BOX + x) + 3] >= 128) counts[Math.floor(y / BLOCK) * 8 + Math.floor(x / BLOCK)]++;
    }
  }
  return counts;
}

function drawStrokes(ctx, strokes, width, color = "#000") {
  ctx.lineWidth = width;
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.strokeStyle = ctx.fillStyle = color;
  for (const s of strokes) {
    ctx.beginPath();
    if (s.length === 1) {  // a tap: a dot
      ctx.arc(s[0][0], s[0][1], width / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    s.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.stroke();
  }
}

// an 8x8 image of counts 0..16 onto a canvas, ink on the card's colour
function drawPixels(canvas, pixels) {
  const ink = getComputedStyle(document.documentElement).getPropertyValue("--ink").trim();
  const ctx = canvas.getContext("2d");
  const cell = canvas.width / 8;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = ink;
  pixels.forEach((v, k) => {
    ctx.globalAlpha = v / 16;
    ctx.fillRect((k % 8) * cell, Math.floor(k / 8) * cell, cell, cell);
  });
  ctx.globalAlpha = 1;
}

export class DigitsTab {
  // post(msg) sends to the worker
  constructor(post) {
    this.post = post;
    this.state = { run: 0, running: false, trained: false, epoch: 0, epochs: 0, accuracy: null, testAccuracy: null,
                   stepUs: null, summary: null, pixels: new Array(64).fill(0), probabilities: null, sample: null,
                   predictions: 0, lastEnd: null };
    this.ready = false;
    this.strokes = [];
    this.drawing = null;     // the pointer drawing now
    this.asked = 0;          // prediction requests sent ...
    this.inFlight = false;   // ... one at a time: the newest image is sent when the answer comes
    this.dirty = false;
    this.sampleIndex = 0;
    this.pad = $("pad");
    this.seen = $("pad-seen");
    this.scratch = document.createElement("canvas");
    this.bars = this.buildBars();
    $("digits-train").addEventListener("click", () => this.train());
    $("digits-stop").addEventListener("click", () => this.stop());
    $("pad-clear").addEventListener("click", () => this.clear());
    $("pad-sample").addEventListener("click", () => this.post({ type: "digits-sample", index: this.sampleIndex++ }));
    this.pad.addEventListener("pointerdown", (e) => this.penDown(e));
    this.pad.addEventListener("pointermove", (e) => this.penMove(e));
    for (const type of ["pointerup", "pointercancel"]) this.pad.addEventListener(type, (e) => this.penUp(e));
    new ResizeObserver(() => this.drawPad()).observe(this.pad);
    this.setButtons();
  }

  buildBars() {
    const list = byTestId("digit-bars");
    return Array.from({ length: 10 }, (_, d) => {
      const li = document.createElement("li");
      li.dataset.testid = `digit-bar-${d}`;
      li.innerHTML = `<span class="digit">${d}</span><span class="bar"><span></span></span><span class="pct">\u2013</span>`;
      list.append(li);
      return li;
    });
  }

  // the tab was opened: the first time, and once Python is ready, train
  shown() {
    if (this.ready && !this.state.trained && !this.state.running) this.train();
  }

  setReady(ready) {
    this.ready = ready;
    if (!ready) this.state.running = this.state.trained = false;  // a restarted worker has no CNN
    this.setButtons();
    if (ready && !$("digits").hidden) this.shown();
  }

  setButtons() {
    const focused = document.activeElement;
    $("digits-train").disabled = !this.ready;
    $("digits-stop").disabled = !this.state.running;
    $("pad-sample").disabled = !this.ready;
    if (focused?.disabled) $("digits-train").focus();
  }

  train() {
    if (!this.ready) return;
    this.post({ type: "digits-train", run: ++this.state.run });
    this.state.running = true;
    this.state.lastEnd = null;
    this.note("");
    this.setButtons();
  }

  stop() {
    if (!this.state.running) return;
    this.post({ type: "digits-stop", run: this.state.run });
    this.state.running = false;
    this.setButtons();
  }

  note(text) { byTestId("digits-note").textContent = text; }

  // a message from the worker about the digits tab
  message(data) {
    const s = this.state;
    if (data.type === "digits-prediction") return this.predicted(data);
    if (data.type === "digits-sample") return this.sampled(data);
    if (data.run !== s.run) return;  // a run the page has left
    if (data.type === "digits-started") {
      Object.assign(s, { trained: true, epoch: 0, accuracy: null, testAccuracy: data.test_accuracy, stepUs: null,
                         summary: data.summary });
      byTestId("digits-summary").textContent = data.summary.text;
      s.epochs = data.summary.epochs;
    } else if (data.type === "digits-progress") {
      Object.assign(s, { epoch: data.epoch, accuracy: data.accuracy ?? s.accuracy, testAccuracy: data.test_accuracy,
                         stepUs: data.step_us ?? s.stepUs });
      byTestId("digits-progress").value = Math.min(1, (data.epoch + data.fraction) / s.epochs);
      this.classify();  // the same strokes, a better network
    } else if (data.type === "digits-ended") {
      s.running = false;
      s.lastEnd = data.reason;
      this.setButtons();
      this.note(`${data.reason === "done" ? "Trained" : "Stopped at epoch"} ${s.epoch}${data.reason === "done" ?
        " epochs" : ""}: test accuracy ${percent(s.testAccuracy)}. Draw a digit, or load a sample.`);
    }
    this.showFigures();
  }

  failed(text) {
    this.state.running = false;
    this.setButtons();
    this.note(`Failed: ${text}`);
  }

  showFigures() {
    const s = this.state;
    byTestId("digits-epoch").textContent = s.epochs ? `${s.epoch} / ${s.epochs}` : String(s.epoch);
    byTestId("digits-accuracy").textContent = percent(s.accuracy);
    byTestId("digits-test-accuracy").textContent = percent(s.testAccuracy);
    byTestId("digits-step-speed").textContent = speedText(s.stepUs);
  }

  // ---- the pad ----
  point(e) {
    const r = this.pad.getBoundingClientRect();
    return [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
  }

  penDown(e) {
    if (e.button !== 0 && e.pointerType === "mouse") return;
    e.preventDefault();
    this.pad.setPointerCapture?.(e.pointerId);
    if (this.state.sample) this.clear();  // drawing starts over a sample's image
    this.drawing = e.pointerId;
    this.strokes.push([this.point(e)]);
    this.update();
  }

  penMove(e) {
    if (this.drawing !== e.pointerId) return;
    e.preventDefault();
    this.strokes.at(-1).push(this.point(e));
    this.update();
  }

  penUp(e) {
    if (this.drawing !== e.pointerId) return;
    this.drawing = null;
    this.update();
  }

  clear() {
    this.strokes = [];
    this.state.sample = null;
    this.update();
  }

  sampled(data) {
    this.strokes = [];
    this.state.sample = { label: data.label, index: data.index };
    this.state.pixels = data.pixels;
    this.drawPad();
    this.classify();
  }

  // strokes changed: the 8x8 image, then the network's answer
  update() {
    if (!this.state.sample) this.state.pixels = downsample(this.strokes, this.scratch);
    this.drawPad();
    this.classify();
  }

  drawPad() {
    const dpr = window.devicePixelRatio || 1;
    const size = Math.round(this.pad.clientWidth * dpr);
    if (!size) return;
    if (this.pad.width !== size) this.pad.width = this.pad.height = size;
    const ctx = this.pad.getContext("2d");
    ctx.clearRect(0, 0, size, size);
    if (this.state.sample) drawPixels(this.pad, this.state.pixels);
    const ink = getComputedStyle(document.documentElement).getPropertyValue("--ink").trim();
    drawStrokes(ctx, this.strokes.map((s) => s.map(([x, y]) => [x * size, y * size])), PAD_PEN * size, ink);
    this.seen.width = this.seen.height = 8;
    drawPixels(this.seen, this.state.pixels);
  }

  classify() {
    if (!this.ready) return;
    if (this.inFlight) { this.dirty = true; return; }
    this.inFlight = true;
    this.dirty = false;
    this.post({ type: "digits-predict", id: ++this.asked, pixels: this.state.pixels.slice() });
  }

  predicted(data) {
    this.inFlight = false;
    const s = this.state;
    s.probabilities = data.probabilities;
    s.predictions++;
    const empty = s.pixels.every((v) => v === 0);
    const best = data.probabilities.indexOf(Math.max(...data.probabilities));
    this.bars.forEach((li, d) => {
      const p = empty ? null : data.probabilities[d];  // a blank pad is no digit: no bars
      li.querySelector(".bar > span").style.width = `${(p * 100).toFixed(1)}%`;
      li.querySelector(".pct").textContent = percent(p);
      li.classList.toggle("best", d === best && !empty);
    });
    s.best = empty ? null : best;
    // the live region speaks when a stroke ends, not at every move of the pen
    if (this.drawing === null) {
      const of = s.sample ? ` (a held-out ${s.sample.label})` : "";
      byTestId("digit-prediction").textContent = empty ? "Draw a digit on the pad." :
        `It looks like a ${best}${of}: ${percent(data.probabilities[best])} sure.`;
    }
    if (this.dirty) this.classify();
  }
}
