// A second (third...) Pyodide with another build of the wheel (e.g. without -msimd128), driven by bench.js.
// page -> worker: {id, op: "load", wheel, config, groups} | {id, op: "time", name, number} | {id, op: "check", name, n}
// worker -> page: {id, value} or {id, error}
import { loadOurs } from "./pyodide_host.js";

let ours = null;
self.onmessage = async ({ data }) => {
  try {
    let value;
    if (data.op === "load") {
      ours = await loadOurs(data.wheel);
      value = { names: ours.setup(data.config, data.groups), info: { ...ours.info(), pyodide: ours.version } };
    } else if (data.op === "time") {
      value = ours.timeCalls(data.name, data.number);
    } else if (data.op === "check") {
      value = ours.check(data.name, data.n);
    }
    self.postMessage({ id: data.id, value });
  } catch (e) {
    self.postMessage({ id: data.id, error: String(e && e.stack || e) });
  }
};
