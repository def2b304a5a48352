// wedge explore: the page. State is the value of every parameter; what is sent is the keys that
// differ from the starting scenario ("set"), the pinned reference's ("reference"), runs and seed.
// The server checks everything (the command line's error messages) and runs the engine.
"use strict";

const page = {
  state: null,          // GET /api/state
  values: {},           // key -> current value
  reference: null,      // pinned overrides (null: the starting scenario)
  latest: {},           // channel -> sequence number of the newest request
  seq: 0,
  timer: null,
  charts: {},
  whyAsked: false,
  last: null,           // the last comparison shown
};

const $ = (id) => document.getElementById(id);
const fmt4 = (x) => (x === null || x === undefined || Number.isNaN(x) ? "–" : x.toFixed(4));
const signed4 = (x) => (x === null || x === undefined ? "–" : (x >= 0 ? "+" : "") + x.toFixed(4));
const interval = (lo, hi, f = fmt4) => `[${f(lo)}, ${f(hi)}]`;
const safeId = (s) => String(s).replace(/[^A-Za-z0-9_.-]/g, "_");

function element(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Error bars on Chart.js bars and points (Chart.js has none of its own): dataset.errorBars[i] =
// {low, high} in the value axis's units.
const errorBars = {
  id: "errorBars",
  afterDatasetsDraw(chart) {
    const ctx = chart.ctx;
    const y = chart.scales.y;
    chart.data.datasets.forEach((ds, i) => {
      const meta = chart.getDatasetMeta(i);
      if (!ds.errorBars || meta.hidden) return;
      ctx.save();
      ctx.strokeStyle = ds.errorColor || "#222";
      ctx.lineWidth = 1.2;
      meta.data.forEach((el, j) => {
        const bar = ds.errorBars[j];
        if (!bar) return;
        const top = y.getPixelForValue(bar.high);
        const bottom = y.getPixelForValue(bar.low);
        const half = Math.min(6, (el.width || 8) / 4);
        ctx.beginPath();
        ctx.moveTo(el.x, top); ctx.lineTo(el.x, bottom);
        ctx.moveTo(el.x - half, top); ctx.lineTo(el.x + half, top);
        ctx.moveTo(el.x - half, bottom); ctx.lineTo(el.x + half, bottom);
        ctx.stroke();
      });
      ctx.restore();
    });
  },
};

// ---------------------------------------------------------------------------------------------
// Requests

async function post(channel, path, body) {
  const seq = ++page.seq;
  page.latest[channel] = seq;
  const response = await fetch(path, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({error: `HTTP ${response.status}`}));
  if (page.latest[channel] !== seq || response.status === 409) return {superseded: true};
  if (!response.ok) return {error: data.error || `HTTP ${response.status}`};
  return {data};
}

function overrides() {
  const set = {};
  for (const [k, v] of Object.entries(page.values)) {
    if (v !== page.state.values[k]) set[k] = v;
  }
  return set;
}

function settings() {
  return {set: overrides(), runs: readInteger("runs"), seed: readInteger("seed")};
}

function readInteger(id) {
  const text = $(id).value.trim();
  return /^-?\d+$/.test(text) ? Number(text) : text;  // a non-integer is sent as is: the server says what is wrong
}

function setStatus(status) {
  document.body.dataset.status = status;
}

function showError(message) {
  const box = $("error");
  if (message) {
    box.textContent = `error: ${message}`;
    box.hidden = false;
  } else {
    box.textContent = "";
    box.hidden = true;
  }
}

function markInvalid(message) {
  document.querySelectorAll(".param.invalid").forEach((p) => p.classList.remove("invalid"));
  if (!message) return;
  for (const key of Object.keys(page.values)) {
    if (message.includes(key)) {
      const p = document.querySelector(`.param[data-key="${key}"]`);
      if (p) p.classList.add("invalid");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The controls

function buildControls() {
  const box = $("controls");
  box.replaceChildren();
  for (const group of page.state.groups) {
    const details = element("details", {class: "group", open: ""}, element("summary", {text: group.title}));
    for (const part of group.parts) {
      if (part.title) details.append(element("p", {class: "part-title", text: part.title}));
      for (const p of part.params) details.append(control(p));
    }
    box.append(details);
  }
}

function control(p) {
  const row = element("div", {class: "param", dataset: {key: p.key}});
  row.append(element("div", {class: "head"},
    element("span", {class: "name", text: p.key}), element("span", {class: "range", text: p.range})));
  row.append(element("div", {class: "meaning", text: p.meaning}));
  const inputs = element("div", {class: "inputs"});
  const id = `p-${safeId(p.key)}`;
  if (p.type === "boolean") {
    const box = element("input", {type: "checkbox", id, "aria-label": p.key, dataset: {key: p.key}});
    box.checked = page.values[p.key];
    box.addEventListener("change", () => changed(p.key, box.checked));
    inputs.append(box);
  } else if (p.choices) {
    const select = element("select", {id, "aria-label": p.key, dataset: {key: p.key}});
    for (const c of p.choices) select.append(element("option", {value: c, text: c}));
    select.value = String(page.values[p.key]);
    select.addEventListener("change", () => changed(p.key, Number(select.value)));
    inputs.append(select);
  } else {
    const slider = element("input", {type: "range", id, min: p.slider_min, max: p.slider_max, step: p.step,
                                      "aria-label": p.key, dataset: {key: p.key}});
    const number = element("input", {type: "number", id: `n-${safeId(p.key)}`, step: "any",
                                      "aria-label": `${p.key} value`, dataset: {key: p.key}});
    if (p.min !== null) number.min = p.min;
    if (p.max !== null) number.max = p.max;
    slider.value = page.values[p.key];
    number.value = page.values[p.key];
    slider.addEventListener("input", () => {
      const v = p.type === "integer" ? Math.round(Number(slider.value)) : Number(slider.value);
      number.value = v;
      changed(p.key, v);
    });
    number.addEventListener("change", () => {
      if (number.value.trim() === "") return;  // not a number: nothing to send
      const v = Number(number.value);
      slider.value = v;
      changed(p.key, v);
    });
    inputs.append(slider, number);
  }
  row.append(inputs);
  return row;
}

function syncControls() {
  for (const [key, value] of Object.entries(page.values)) {
    const id = safeId(key);
    const input = $(`p-${id}`);
    if (!input) continue;
    if (input.type === "checkbox") input.checked = value;
    else input.value = value;
    const number = $(`n-${id}`);
    if (number) number.value = value;
  }
  markChanged();
}

function markChanged() {
  const set = overrides();
  document.querySelectorAll(".param").forEach((row) => row.classList.toggle("changed", row.dataset.key in set));
}

function changed(key, value) {
  page.values[key] = value;
  markChanged();
  schedule();
}

// A change is sent 120 ms after the last input event (a slider being dragged sends one request a
// pause); a newer request supersedes the one in flight (the server cancels it).
function schedule() {
  clearTimeout(page.timer);
  page.timer = setTimeout(refresh, 120);
}

// ---------------------------------------------------------------------------------------------
// The comparison: distributions and paired differences

async function refresh() {
  setStatus("running");
  const body = settings();
  body.reference = page.reference || {};
  const started = performance.now();
  const result = await post("compare", "/api/compare", body);
  if (result.superseded) return;
  if (result.error) {
    showError(result.error);
    markInvalid(result.error);
    $("results").classList.add("stale");
    finish("error");
    return;
  }
  showError(null);
  markInvalid(null);
  $("results").classList.remove("stale");
  page.last = result.data;
  drawComparison(result.data, performance.now() - started);
  finish("ready");
  if (page.whyAsked) tellWhy();
}

function finish(status) {
  document.body.dataset.seq = String(Number(document.body.dataset.seq) + 1);
  setStatus(status);
}

function referenceText() {
  if (!page.reference) return `the starting scenario (${page.state.label})`;
  const keys = Object.entries(page.reference).map(([k, v]) => `${k} = ${v}`);
  return `the pinned scenario (${keys.length ? keys.join(", ") : "no changes"})`;
}

function drawComparison(data, ms) {
  const set = overrides();
  $("status").textContent = `${data.runs} runs of each scenario, seed ${data.seed}; ${Math.round(ms)} ms. ` +
    `Changed: ${Object.keys(set).length ? Object.entries(set).map(([k, v]) => `${k} = ${v}`).join(", ") : "nothing"}.`;
  $("reference-line").textContent = `Δ = this scenario minus ${referenceText()}; the same seed makes the ` +
    "runs pairs (run r of both share their random numbers), so the paired interval is the one to read.";
  const byOutcome = {};
  for (const r of data.rows) (byOutcome[r.outcome] = byOutcome[r.outcome] || []).push(r);
  for (const {field, title} of page.state.outcomes) {
    const rows = byOutcome[field] || [];
    let card = $(`outcome-${field}`);
    if (!card) {
      card = element("div", {class: "outcome", id: `outcome-${field}`},
        element("h3", {text: title}),
        element("div", {class: "chart-box"}, element("canvas", {id: `chart-${field}`})),
        element("table", {id: `table-${field}`}));
      $("outcomes").append(card);
    }
    drawOutcomeChart(field, rows);
    drawOutcomeTable(field, rows);
  }
  drawMeans(data.means);
}

function drawOutcomeChart(field, rows) {
  const labels = rows.map((r) => r.category);
  const datasets = [
    {label: "reference", data: rows.map((r) => r.p_a), backgroundColor: "#c7c7c7",
     errorBars: rows.map((r) => ({low: r.a_low, high: r.a_high})), errorColor: "#777"},
    {label: "this scenario", data: rows.map((r) => r.p_b), backgroundColor: "#4c72b0",
     errorBars: rows.map((r) => ({low: r.b_low, high: r.b_high}))},
  ];
  const chart = page.charts[field];
  if (chart) {
    chart.data.labels = labels;
    chart.data.datasets = datasets;
    chart.update("none");
    return;
  }
  page.charts[field] = new Chart($(`chart-${field}`), {
    type: "bar",
    data: {labels, datasets},
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      scales: {y: {min: 0, max: 1, title: {display: true, text: "probability"}}},
      plugins: {legend: {position: "top", labels: {boxWidth: 12}},
                tooltip: {callbacks: {label: (c) => {
                  const bar = c.dataset.errorBars[c.dataIndex];
                  return `${c.dataset.label}: ${fmt4(c.parsed.y)} ${interval(bar.low, bar.high)}`;
                }}}},
    },
    plugins: [errorBars],
  });
}

function drawOutcomeTable(field, rows) {
  const table = $(`table-${field}`);
  const head = element("thead", {}, element("tr", {},
    element("th", {text: "category"}), element("th", {text: "P"}), element("th", {text: "95% interval"}),
    element("th", {text: "Δ"}), element("th", {text: "paired 95%", title: "hover a cell for the unpaired interval"})));
  const body = element("tbody");
  for (const r of rows) {
    const id = `${field}-${safeId(r.category)}`;
    const diffClass = r.paired_low > 0 ? "up" : r.paired_high < 0 ? "down" : "";
    body.append(element("tr", {id: `row-${id}`},
      element("td", {text: r.category}),
      element("td", {id: `p-${id}`, text: fmt4(r.p_b),
                     dataset: {p: r.p_b, low: r.b_low, high: r.b_high, count: r.count}}),
      element("td", {id: `ci-${id}`, text: interval(r.b_low, r.b_high)}),
      element("td", {id: `d-${id}`, class: diffClass, text: signed4(r.diff),
                     dataset: {diff: r.diff, low: r.paired_low, high: r.paired_high}}),
      element("td", {id: `dci-${id}`, class: diffClass, text: interval(r.paired_low, r.paired_high, signed4),
                     title: `unpaired 95% (as if the runs were independent): ` +
                            `${interval(r.unpaired_low, r.unpaired_high, signed4)}`,
                     dataset: {unpairedLow: r.unpaired_low, unpairedHigh: r.unpaired_high}})));
  }
  table.replaceChildren(head, body);
}

function drawMeans(means) {
  const box = $("means");
  const rows = means.map((m) => element("tr", {},
    element("td", {text: m.outcome}), element("td", {text: fmt4(m.mean_b)}), element("td", {text: fmt4(m.mean_a)}),
    element("td", {text: signed4(m.diff)}), element("td", {text: interval(m.paired_low, m.paired_high, signed4)}),
    element("td", {text: interval(m.unpaired_low, m.unpaired_high, signed4)})));
  box.replaceChildren(element("h3", {text: "Means"}), element("table", {},
    element("thead", {}, element("tr", {}, element("th", {text: "field"}), element("th", {text: "this scenario"}),
      element("th", {text: "reference"}), element("th", {text: "Δ"}), element("th", {text: "paired 95%"}),
      element("th", {text: "unpaired 95%"}))),
    element("tbody", {}, ...rows)));
}

// ---------------------------------------------------------------------------------------------
// Why: one run told

function buildWhy() {
  const select = $("why-outcome");
  for (const {field, categories} of page.state.why) {
    const group = element("optgroup", {label: field});
    for (const c of categories) group.append(element("option", {value: `${field}=${c}`, text: `${field} = ${c}`}));
    select.append(group);
  }
  select.value = "format=treaty";
  $("why-run").addEventListener("click", () => { page.whyAsked = true; tellWhy(); });
  select.addEventListener("change", () => { if (page.whyAsked) tellWhy(); });
}

async function tellWhy() {
  const [outcome, category] = $("why-outcome").value.split("=");
  const body = Object.assign(settings(), {outcome, category});
  $("why").classList.add("stale");
  const result = await post("why", "/api/why", body);
  if (result.superseded) return;
  $("why").classList.remove("stale");
  if (result.error) {
    $("why-head").textContent = `error: ${result.error}`;
    $("why-text").textContent = "";
    return;
  }
  const d = result.data;
  $("why-head").dataset.replicate = d.replicate === null ? "" : d.replicate;
  $("why-head").textContent = d.replicate === null ? d.text
    : `Run ${d.replicate} of ${d.runs} (seed ${d.seed}) is the first that ended with ${outcome} = ${category}:`;
  $("why-text").textContent = d.replicate === null ? "" : d.text;
}

// ---------------------------------------------------------------------------------------------
// The one-key sweep

function buildSweep() {
  const select = $("sweep-key");
  for (const group of page.state.groups) {
    const og = element("optgroup", {label: group.title});
    for (const part of group.parts) for (const p of part.params) og.append(element("option", {value: p.key, text: p.key}));
    select.append(og);
  }
  const params = {};
  for (const g of page.state.groups) for (const part of g.parts) for (const p of part.params) params[p.key] = p;
  const setRange = () => {
    const p = params[select.value];
    $("sweep-min").value = p.slider_min;
    $("sweep-max").value = p.slider_max;
  };
  select.value = "dulles.threat_strength";
  setRange();
  select.addEventListener("change", setRange);
  for (const {field} of page.state.outcomes) $("sweep-outcome").append(element("option", {value: field, text: field}));
  $("sweep-run").addEventListener("click", runSweep);
  $("sweep-outcome").addEventListener("change", () => page.sweep && drawSweep(page.sweep));
}

async function runSweep() {
  const body = Object.assign(settings(), {
    key: $("sweep-key").value, steps: readInteger("sweep-steps"),
    min: Number($("sweep-min").value), max: Number($("sweep-max").value),
  });
  $("sweep").classList.add("stale");
  document.body.dataset.sweep = "running";
  const result = await post("sweep", "/api/sweep", body);
  if (result.superseded) return;
  $("sweep").classList.remove("stale");
  if (result.error) {
    $("sweep-table").replaceChildren(element("caption", {text: `error: ${result.error}`}));
    document.body.dataset.sweep = "error";
    return;
  }
  page.sweep = result.data;
  drawSweep(result.data);
  document.body.dataset.sweep = "ready";
}

const COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"];

function drawSweep(data) {
  const field = $("sweep-outcome").value;
  const o = data.outcomes[field];
  const xs = data.values.map((v) => (typeof v === "boolean" ? Number(v) : v));
  const datasets = o.categories.map((c, k) => ({
    label: c, borderColor: COLOURS[k % COLOURS.length], backgroundColor: COLOURS[k % COLOURS.length],
    errorColor: COLOURS[k % COLOURS.length], showLine: true, pointRadius: 3,
    data: xs.map((x, i) => ({x, y: o.p[i][k]})),
    errorBars: xs.map((x, i) => ({low: o.low[i][k], high: o.high[i][k]})),
  }));
  if (page.charts.sweep) page.charts.sweep.destroy();
  page.charts.sweep = new Chart($("sweep-chart"), {
    type: "scatter",
    data: {datasets},
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      scales: {y: {min: 0, max: 1, title: {display: true, text: `P(${field} = category)`}},
               x: {title: {display: true, text: data.key}}},
      plugins: {legend: {position: "top", labels: {boxWidth: 12}}},
    },
    plugins: [errorBars],
  });
  const head = element("tr", {}, element("th", {text: data.key}),
    ...o.categories.map((c) => element("th", {text: `P(${c}) [95%]`})));
  const rows = data.values.map((v, i) => element("tr", {dataset: {value: v}}, element("td", {text: String(v)}),
    ...o.categories.map((c, k) => element("td", {dataset: {p: o.p[i][k]},
      text: `${fmt4(o.p[i][k])} ${interval(o.low[i][k], o.high[i][k])}`}))));
  $("sweep-table").replaceChildren(element("caption", {text: `${data.runs} runs per value, seed ${data.seed}`}),
    element("thead", {}, head), element("tbody", {}, ...rows));
}

// ---------------------------------------------------------------------------------------------
// Save as TOML

async function save() {
  const result = await post("toml", "/api/toml", settings());
  if (result.superseded) return;
  if (result.error) {
    showError(result.error);
    return;
  }
  const text = result.data.toml;
  $("toml").value = text;
  $("save-panel").hidden = false;
  const link = $("toml-download");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([text], {type: "application/toml"}));
  link.click();
  document.body.dataset.saved = String(Number(document.body.dataset.saved || 0) + 1);
}

// ---------------------------------------------------------------------------------------------

async function start() {
  const response = await fetch("/api/state");
  page.state = await response.json();
  page.values = Object.assign({}, page.state.values);
  $("scenario-label").textContent = `— starting from ${page.state.label}` +
    (page.state.label === page.state.source ? "" : ` (${page.state.source})`);
  $("runs").value = page.state.runs;
  $("seed").value = page.state.seed;
  buildControls();
  buildWhy();
  buildSweep();
  for (const id of ["runs", "seed"]) $(id).addEventListener("change", schedule);
  $("pin").addEventListener("click", () => { page.reference = overrides(); refresh(); });
  $("unpin").addEventListener("click", () => { page.reference = null; refresh(); });
  $("reset").addEventListener("click", () => {
    page.values = Object.assign({}, page.state.values);
    page.reference = null;
    syncControls();
    refresh();
  });
  $("save").addEventListener("click", save);
  markChanged();
  await refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  start().catch((err) => { showError(`the page could not start: ${err}`); setStatus("error"); });
});
