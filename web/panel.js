// The Python panel: example tabs, the editor's keys, streamed and bounded output, Run and Stop Python.

const $ = (id) => document.getElementById(id);
const MAX_LINES = 2000;        // the output keeps its last MAX_LINES lines ...
const MAX_CHARS = 200_000;     // ... and at most this many characters

export class PythonPanel {
  // run(id, code, filename) sends code to the worker; stop() interrupts it (or restarts the worker)
  constructor({ run, stop, onBusy }) {
    this.send = run;
    this.stopPython = stop;
    this.onBusy = onBusy;
    this.examples = [];
    this.current = -1;
    this.runId = 0;
    this.pending = null;   // the id of the run the page waits for
    this.text = "";        // the output shown (its tail)
    this.dropped = 0;      // lines no longer shown
    this.code = $("code");
    this.output = $("output");
    this.runButton = $("run");
    this.stopButton = $("stop-python");
    this.escaped = false;  // Esc was pressed: the next Tab leaves the editor
    this.runButton.addEventListener("click", () => this.run());
    this.stopButton.addEventListener("click", () => this.stop());
    $("reset").addEventListener("click", () => this.reset());
    this.code.addEventListener("keydown", (e) => this.editorKey(e));
    this.code.addEventListener("blur", () => { this.escaped = false; });
  }

  async load(manifestUrl) {
    const manifest = await (await fetch(manifestUrl)).json();
    this.examples = await Promise.all(manifest.examples.map(async ({ title, file }) => {
      const text = await (await fetch(new URL(file, manifestUrl))).text();
      return { title, file: file.split("/").pop(), original: text, text };
    }));
    const tabs = $("example-tabs");
    this.examples.forEach((ex, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.role = "tab";
      b.id = `example-tab-${i + 1}`;
      b.textContent = ex.title;
      b.dataset.testid = `example-${i + 1}`;
      b.setAttribute("aria-controls", "python-panel");
      b.addEventListener("click", () => this.select(i));
      b.addEventListener("keydown", (e) => this.tabKey(e, i));
      tabs.append(b);
    });
    this.select(0);
  }

  select(i) {
    if (this.examples[this.current]) this.examples[this.current].text = this.code.value;
    this.current = i;
    this.code.value = this.examples[i].text;
    document.querySelectorAll("#example-tabs [role=tab]").forEach((b, k) => {
      b.setAttribute("aria-selected", k === i);
      b.tabIndex = k === i ? 0 : -1;  // one tab stop for the list; arrow keys move within it
    });
    $("python-panel").setAttribute("aria-labelledby", `example-tab-${i + 1}`);
    this.clear();
  }

  tabKey(e, i) {
    const n = this.examples.length;
    const to = { ArrowRight: (i + 1) % n, ArrowLeft: (i + n - 1) % n, Home: 0, End: n - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    this.select(to);
    $(`example-tab-${to + 1}`).focus();
  }

  editorKey(e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      this.run();
    } else if (e.key === "Escape") {
      this.escaped = true;
    } else if (e.key === "Tab" && !e.shiftKey && !this.escaped) {
      e.preventDefault();
      this.code.setRangeText("    ", this.code.selectionStart, this.code.selectionEnd, "end");
    } else {
      this.escaped = false;
    }
  }

  clear() {
    this.text = "";
    this.dropped = 0;
    this.output.textContent = "";
    this.output.className = "";
    document.querySelector('[data-testid="python-time"]').textContent = "";
  }

  reset() {
    const ex = this.examples[this.current];
    ex.text = ex.original;
    this.code.value = ex.original;
    this.clear();
  }

  setReady(ready) {
    this.runButton.disabled = !ready || this.pending !== null;
  }

  run() {
    if (this.runButton.disabled) return;
    this.clear();
    this.pending = ++this.runId;
    this.output.className = "pending";
    this.output.textContent = "running ...";
    this.busy(true);
    this.send(this.pending, this.code.value, this.examples[this.current].file);
  }

  stop() {
    if (this.pending === null) return;
    this.stopPython();
  }

  busy(running) {
    this.runButton.disabled = running;
    this.stopButton.disabled = !running;
    if (!running && document.activeElement === this.stopButton) this.runButton.focus();
    this.onBusy(running);
  }

  // a batch of streamed output; only the tail is kept, with a note of how much was dropped
  append(id, chunk) {
    if (id !== this.pending) return;
    let text = this.text + chunk;
    const lines = text.split("\n");
    if (lines.length > MAX_LINES + 1 || text.length > MAX_CHARS) {
      let cut = Math.max(0, lines.length - 1 - MAX_LINES);
      let kept = lines.slice(cut).join("\n");
      if (kept.length > MAX_CHARS) {
        const from = kept.indexOf("\n", kept.length - MAX_CHARS) + 1;
        cut += kept.slice(0, from).split("\n").length - 1;
        kept = kept.slice(from);
      }
      this.dropped += cut;
      text = kept;
    }
    this.text = text;
    this.output.className = "pending";
    this.show();
  }

  show() {
    const note = this.dropped ? `[... ${this.dropped} earlier lines not shown]\n` : "";
    this.output.textContent = note + this.text;
    this.output.scrollTop = this.output.scrollHeight;
  }

  finished(data) {
    if (data.id !== this.pending) return;
    this.pending = null;
    if (!this.text && !this.dropped) this.text = "(no output)";
    this.show();
    this.output.className = data.ok ? "ok" : "failed";
    document.querySelector('[data-testid="python-time"]').textContent = `${data.elapsed_ms.toFixed(0)} ms`;
    this.busy(false);
  }

  // the worker was restarted under a run: it is gone, say so
  abandoned(why) {
    if (this.pending === null) return;
    this.pending = null;
    this.text += `${this.text && !this.text.endsWith("\n") ? "\n" : ""}${why}`;
    this.show();
    this.output.className = "failed";
    this.busy(false);
  }

  failed(id, text) {
    if (id !== this.pending) return;
    this.text += text;
    this.finished({ id, ok: false, elapsed_ms: 0 });
  }
}
