// The controls' rules: what each field accepts, what is used when it holds something else, and the URL hash.
// A field with a bad value is marked inline and the last good value stays in use (the message says which).

// Learning rates that make each optimizer visibly learn these toy sets (Keras' own defaults are 10x smaller).
export const LEARNING_RATES = { adam: 0.01, sgd: 0.1, rmsprop: 0.01 };

const CHOICES = {
  dataset: ["circle", "xor", "gauss", "spiral", "moons", "seed"],
  activation: ["tanh", "relu", "sigmoid"],
  optimizer: ["adam", "sgd", "rmsprop"],
  speed: ["10", "30", "0"],
};
// number fields: [min, max, whole numbers only]
const NUMBERS = {
  noise: [0, 50, true], test: [0, 90, true], dropout: [0, 0.9, false], learningRate: [1e-5, 10, false],
  lrDecay: [0.01, 1, false], weightDecay: [0, 1, false], batchSize: [1, 1000, true], epochs: [1, 100000, true],
};
const MAX_LAYERS = 6;
const MAX_UNITS = 256;
export const DEFAULTS = {
  dataset: "circle", noise: "10", test: "50", hidden: "8, 8", activation: "tanh", dropout: "0",
  optimizer: "adam", learningRate: String(LEARNING_RATES.adam), lrDecay: "1", weightDecay: "0", batchSize: "10",
  epochs: "300", speed: "30",
};

// {value} when `raw` is acceptable for field `name`, else {error}
export function parse(name, raw) {
  const text = String(raw).trim();
  if (name in CHOICES) return CHOICES[name].includes(text) ? { value: text } : { error: `unknown ${name}` };
  if (name === "hidden") {
    const parts = text.split(/[\s,]+/).filter(Boolean);
    const units = parts.map(Number);
    const bad = (u) => !Number.isInteger(u) || u < 1 || u > MAX_UNITS;
    if (parts.length < 1 || parts.length > MAX_LAYERS || units.some(bad)) {
      return { error: `1 to ${MAX_LAYERS} whole numbers from 1 to ${MAX_UNITS}, separated by commas` };
    }
    return { value: units };
  }
  const [min, max, whole] = NUMBERS[name];
  const v = text === "" ? NaN : Number(text);
  if (!Number.isFinite(v) || v < min || v > max || (whole && !Number.isInteger(v))) {
    return { error: `${whole ? "a whole number" : "a number"} from ${min} to ${max}` };
  }
  return { value: v };
}

export const FIELDS = Object.keys(DEFAULTS);

// The form's values; each bad field is marked and keeps its last good value (`used`), which the message names.
export class Settings {
  constructor(form) {
    this.form = form;
    this.used = {};
    for (const name of FIELDS) {
      const el = form.elements[name];
      const error = document.createElement("span");
      error.className = "error";
      error.id = `${el.id}-error`;
      error.dataset.testid = `${el.dataset.testid}-error`;
      el.after(error);
      el.setAttribute("aria-describedby", [el.getAttribute("aria-describedby"), error.id].filter(Boolean).join(" "));
    }
    this.apply({ ...DEFAULTS, ...Object.fromEntries(new URLSearchParams(location.hash.slice(1))) });
  }

  // set the fields from strings (defaults, or a shared link's hash), then validate them all
  apply(values) {
    for (const name of FIELDS) if (name in values) this.form.elements[name].value = values[name];
    for (const name of FIELDS) this.check(name);
  }

  // validate one field; true when its value is now in use
  check(name) {
    const el = this.form.elements[name];
    const result = parse(name, el.value);
    const error = document.getElementById(`${el.id}-error`);
    if (result.error === undefined) {
      this.used[name] = result.value;
      el.removeAttribute("aria-invalid");
      error.textContent = "";
      return true;
    }
    if (!(name in this.used)) this.used[name] = parse(name, DEFAULTS[name]).value;
    const used = Array.isArray(this.used[name]) ? this.used[name].join(", ") : this.used[name];
    el.setAttribute("aria-invalid", "true");
    error.textContent = `Enter ${result.error}; ${used} is used.`;
    return false;
  }

  // the config the worker's Trainer takes
  config() {
    const u = this.used;
    return { dataset: u.dataset, noise: u.noise / 100, testFraction: u.test / 100, hidden: u.hidden,
             activation: u.activation, dropout: u.dropout, optimizer: u.optimizer, learningRate: u.learningRate,
             lrDecay: u.lrDecay, weightDecay: u.weightDecay, batchSize: u.batchSize, epochs: u.epochs, seed: 1 };
  }

  // the settings in use as a URL hash, so a link reproduces the page
  hash() {
    const u = this.used;
    return new URLSearchParams(FIELDS.map((n) => [n, Array.isArray(u[n]) ? u[n].join(",") : String(u[n])])).toString();
  }
}
