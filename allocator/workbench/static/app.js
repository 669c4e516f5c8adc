// The workbench page: every number comes from the JSON API (see /docs); nothing is computed here
// but what is drawn.
import { drawLegend, drawMap } from "./map.js";

const $ = (sel) => document.querySelector(sel);
const state = {
  instances: [], instance: null, map: null, presets: [], keys: [],
  overrides: {}, force: new Set(), forbid: new Set(), province: "",
  plans: [], shown: null, selected: null, job: null, rank: null, compare: new Set(),
};

// ------------------------------------------------------------------ the API

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(path, options = {}) {
  const init = { ...options };
  if (options.json !== undefined) {
    init.method = init.method || "POST";
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// ------------------------------------------------------------------ formatting

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const currency = () => state.instance?.currency || "EUR";
function fmtMoney(v) {
  if (v == null) return "–";
  const a = Math.abs(v);
  // Millions with one decimal, also for billions: plans of one instance differ by tens of thousands.
  if (a >= 1e6) return `${currency()} ${(v / 1e6).toLocaleString("en", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} M`;
  return `${currency()} ${Math.round(v).toLocaleString("en")}`;
}
const fmtPlaces = (v) => (v == null ? "–" : Math.round(v).toLocaleString("en"));
const fmtPct = (v, d = 2) => (v == null ? "–" : `${(100 * v).toFixed(d)}%`);
const fmtMin = (v) => (v == null ? "–" : v.toFixed(1));
const badge = (s) => `<span class="status ${esc(s)}">${esc(String(s).replace("_", " "))}</span>`;

// ------------------------------------------------------------------ problems

function showProblems(error) {
  const box = $("#problems");
  if (!error) { box.hidden = true; return; }
  const body = error.body || {};
  const problems = body.problems || [];
  $("#problems-message").textContent = problems.length ? `${problems.length} problem${problems.length === 1 ? "" : "s"}:` : error.message;
  $("#problems-table tbody").innerHTML = problems.map((p) => `<tr><td>${esc(p.file)}</td><td class="n">${esc(p.row ?? "")}</td><td>${esc(p.column ?? "")}</td><td>${esc(p.cell ?? "")}</td><td>${esc(p.value ?? "")}</td><td>${esc(p.message)}</td></tr>`).join("");
  $("#problems-table").hidden = !problems.length;
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

// ------------------------------------------------------------------ instances

async function loadInstances(select) {
  state.instances = await api("/api/instances");
  $("#instance").innerHTML = state.instances.map((i) => `<option value="${esc(i.id)}">${esc(i.name)}${i.uploaded ? " (uploaded)" : ""}</option>`).join("");
  await chooseInstance(select || state.instances[0].id);
}

async function chooseInstance(id) {
  state.instance = state.instances.find((i) => i.id === id);
  $("#instance").value = id;
  state.map = await api(`/api/instances/${encodeURIComponent(id)}/map`);
  state.force.clear(); state.forbid.clear(); state.province = ""; state.shown = null; state.selected = null;
  const inst = state.instance;
  $("#instance-note").textContent = `${inst.provinces.length} provinces, ${inst.municipalities} municipalities, demand ${fmtPlaces(inst.total_demand)} ${inst.units}; costs per ${inst.planning_period}`;
  $("#province").innerHTML = `<option value="">whole country</option>` + inst.provinces.map((p) => `<option value="${esc(p.id)}">${esc(p.name)} (${esc(p.id)})</option>`).join("");
  renderFixings();
  redraw();
}

async function upload(file) {
  const form = new FormData();
  form.append("file", file);
  try {
    const inst = await api("/api/instances", { method: "POST", body: form });
    showProblems(null);
    await loadInstances(inst.id);
  } catch (error) {
    showProblems(error);
  }
}

// ------------------------------------------------------------------ policy

async function loadPolicies() {
  const data = await api("/api/policies");
  state.presets = data.presets;
  state.keys = data.keys;
  $("#preset").innerHTML = state.presets.map((p) => `<option value="${esc(p.name)}">${esc(p.name)}</option>`).join("");
  $("#preset").value = state.presets.some((p) => p.name === "default") ? "default" : state.presets[0].name;
  renderPolicyForm();
}

const preset = () => state.presets.find((p) => p.name === $("#preset").value);
const shownValue = (v) => (v == null ? "" : String(v));

function renderPolicyForm() {
  const p = preset();
  state.overrides = {};
  $("#preset-description").textContent = p.description || "";
  $("#policy-form").innerHTML = state.keys.map(({ key, kind, choices }) => {
    const value = p[key];
    const id = `key-${key}`;
    if (kind === "boolean") return `<label class="check"><input type="checkbox" id="${id}" data-key="${key}" ${value ? "checked" : ""}> ${key}</label>`;
    if (kind === "choice") return `<label class="row">${key} <select id="${id}" data-key="${key}">${choices.map((c) => `<option ${c === value ? "selected" : ""}>${c}</option>`).join("")}</select></label>`;
    const placeholder = key === "budget" ? "the instance's" : "none";
    return `<label class="row">${key} <input type="text" id="${id}" data-key="${key}" value="${esc(shownValue(value))}" placeholder="${placeholder}"></label>`;
  }).join("");
  for (const input of document.querySelectorAll("#policy-form [data-key]")) input.addEventListener("change", () => policyChanged(input));
}

function policyChanged(input) {
  const key = input.dataset.key, base = preset()[key];
  const value = input.type === "checkbox" ? input.checked : input.value.trim();
  let same = input.type === "checkbox" ? value === Boolean(base) : value === shownValue(base);
  if (key === "budget" && value === "" && base == null) same = true;
  if (same) delete state.overrides[key];
  else state.overrides[key] = input.type === "checkbox" ? value : value === "" ? null : value;
  input.classList.toggle("changed", !same);
}

function renderFixings() {
  const rows = [...state.force].map((s) => [s, "forced"]).concat([...state.forbid].map((s) => [s, "forbidden"]));
  const names = new Map((state.map?.sites || []).map((s) => [s.id, s.name]));
  $("#fixings").innerHTML = rows.map(([s, how]) => `<li><span><span class="tag ${how}">${how}</span> ${esc(names.get(s) || s)} <code>${esc(s)}</code></span><button class="small" data-unfix="${esc(s)}" title="Remove">✕</button></li>`).join("");
  $("#fixings-note").hidden = rows.length > 0;
  for (const b of document.querySelectorAll("[data-unfix]")) b.addEventListener("click", () => fix(b.dataset.unfix, null));
}

function fix(site, how) {
  state.force.delete(site); state.forbid.delete(site);
  if (how === "force") state.force.add(site);
  if (how === "forbid") state.forbid.add(site);
  renderFixings();
  redraw();
}

function policyRequest() {
  return {
    instance: state.instance.id, preset: $("#preset").value, overrides: { ...state.overrides },
    force_sites: [...state.force], forbid_sites: [...state.forbid],
  };
}

// ------------------------------------------------------------------ the map

function redraw() {
  if (!state.map) return;
  const plan = state.shown && state.shown.instance === state.instance.id ? state.shown : null;
  drawMap($("#map"), state.map, {
    plan, province: state.province, force: state.force, forbid: state.forbid, selected: state.selected,
    onSite: selectSite, fmtMoney,
  });
  drawLegend($("#legend"), state.map, plan);
  const where = state.province ? state.instance.provinces.find((p) => p.id === state.province).name : state.instance.name;
  $("#map-title").innerHTML = plan
    ? `${esc(where)} · plan <b>${esc(plan.id)}</b> ${esc(plan.label)} ${badge(plan.status)} objective ${fmtMoney(plan.objective)}, cost ${fmtMoney(plan.kpis.total_cost)}, unmet ${fmtPlaces(plan.kpis.unmet)} places${whyUnmet(plan)}`
    : `${esc(where)} · candidate and existing sites`;
  renderSiteCard();
}

// The causes of unmet demand that `allocator explain` finds before solving, under the plan's title.
function whyUnmet(plan) {
  if (!(plan.kpis.unmet > 0)) return "";
  if (!plan.why?.length) return `<p class="note" id="plan-why">Unmet demand: no cause found before solving; <code>allocator explain</code> looks further (its elastic model).</p>`;
  return `<ul class="note" id="plan-why">${plan.why.map((f) => `<li>${esc(f.sentence)}</li>`).join("")}</ul>`;
}

function selectSite(id) {
  state.selected = state.selected === id ? null : id;
  redraw();
}

function renderSiteCard() {
  const card = $("#site-card");
  const s = state.map.sites.find((x) => x.id === state.selected);
  if (!s) { card.hidden = true; return; }
  const ps = state.shown?.sites?.find((x) => x.site === s.id);
  const how = state.force.has(s.id) ? "forced" : state.forbid.has(s.id) ? "forbidden" : "free";
  card.innerHTML = `<h4>${esc(s.name)}</h4><code>${esc(s.id)}</code> · ${esc(s.kind)} ${esc(s.status)} · ${esc(s.province)}
    <table><tr><td>Capacity</td><td class="n">${fmtPlaces(s.capacity)} places</td></tr>
    <tr><td>Minimum size</td><td class="n">${fmtPlaces(s.min_size)} places</td></tr>
    <tr><td>Fixed cost</td><td class="n">${fmtMoney(s.fixed_cost)}</td></tr>
    <tr><td>Cost per place</td><td class="n">${fmtMoney(s.cost_per_place)}</td></tr>
    ${ps ? `<tr><td>In plan ${esc(state.shown.id)}</td><td class="n">${ps.open_site ? `open, ${fmtPlaces(ps.placed)} places` : "closed"}</td></tr>` : ""}</table>
    <div>Now: <b>${how}</b></div>
    <div class="buttons"><button id="site-force" class="primary">Force open</button><button id="site-forbid">Forbid</button><button id="site-free">Free</button><button id="site-close" class="small">Close</button></div>`;
  card.hidden = false;
  $("#site-force").addEventListener("click", () => fix(s.id, "force"));
  $("#site-forbid").addEventListener("click", () => fix(s.id, "forbid"));
  $("#site-free").addEventListener("click", () => fix(s.id, null));
  $("#site-close").addEventListener("click", () => selectSite(s.id));
}

// ------------------------------------------------------------------ jobs

async function startJob(path, request) {
  showProblems(null);
  try {
    const job = await api(path, { json: request });
    followJob(job);
  } catch (error) {
    showProblems(error);
  }
}

function setBusy(busy) {
  $("#solve").disabled = busy;
  $("#rank").disabled = busy;
}

async function followJob(job) {
  state.job = job;
  setBusy(true);
  $("#job").hidden = false;
  $("#cancel").disabled = false;
  for (;;) {
    renderJob(job);
    if (["done", "failed", "cancelled"].includes(job.status)) break;
    await new Promise((r) => setTimeout(r, 400));
    job = await api(`/api/jobs/${job.id}`);
    state.job = job;
  }
  setBusy(false);
  $("#cancel").disabled = true;
  if (job.status === "failed") showProblems(new ApiError(422, { message: job.message, problems: job.problems }));
  if (job.status !== "done") return;
  await refreshPlans();
  if (job.kind === "solve") {
    if (job.result.plans.length) await showPlan(job.result.plans[0]);
    else showProblems(new ApiError(200, { message: `No plan: ${job.result.status}${job.result.message ? ` (${job.result.message})` : ""}${job.result.why.length ? `. Found before solving: ${job.result.why.map((f) => f.sentence).join("; ")}` : ""}` }));
  } else {
    state.rank = job.result;
    renderRank();
  }
}

function renderJob(job) {
  $("#job-id").innerHTML = `${esc(job.id)} · ${esc(job.label)} ${badge(job.status)}`;
  const bar = $("#job-bar");
  const running = job.status === "running" || job.status === "queued";
  const fraction = job.total ? job.done / job.total : null;
  bar.classList.toggle("indeterminate", running && fraction == null);
  bar.style.width = running ? (fraction == null ? "" : `${Math.max(4, 100 * fraction)}%`) : "100%";
  let text = `${job.phase} · ${job.elapsed.toFixed(1)} s`;
  if (running) text += ` (time limit ${job.time_limit} s${job.kind === "whatif" ? " per solve" : ""})`;
  if (job.total) text += ` · ${job.done} of ${job.total} candidates done`;
  if (job.status === "done" && job.kind === "solve") text = `${badge(job.result.status)} ${job.result.how} solve in ${job.result.seconds.toFixed(2)} s, ${job.result.blocks_solved} of ${job.result.blocks} blocks solved`;
  $("#job-phase").innerHTML = job.status === "done" && job.kind === "solve" ? text : esc(text);
}

// ------------------------------------------------------------------ plans

async function refreshPlans() {
  state.plans = await api("/api/plans");
  renderPlans();
}

function renderPlans() {
  const shown = state.shown?.id;
  $("#plans-table tbody").innerHTML = state.plans.map((p) => `<tr data-plan="${esc(p.id)}" class="${p.id === shown ? "shown" : ""}">
    <td><input type="checkbox" data-pick="${esc(p.id)}" ${state.compare.has(p.id) ? "checked" : ""} title="Compare"></td>
    <td><b>${esc(p.id)}</b> ${esc(p.label)}<div class="muted">${esc(p.instance)} · ${esc(p.made.how)}</div>
      <div class="downloads"><button class="small" data-show="${esc(p.id)}">Show</button>
      <a class="small button" data-download="zip" href="/api/plans/${esc(p.id)}/download?format=zip" download>zip</a>
      <a class="small button" data-download="xlsx" href="/api/plans/${esc(p.id)}/download?format=xlsx" download>xlsx</a>
      <a class="small button" data-download="html" href="/api/plans/${esc(p.id)}/download?format=html" download>report</a>
      <button class="small" data-forget="${esc(p.id)}" title="Forget this plan">✕</button></div></td>
    <td>${badge(p.status)}</td>
    <td class="n">${fmtMoney(p.objective)}<div class="muted">cost ${fmtMoney(p.kpis.total_cost)}</div></td><td class="n">${fmtPlaces(p.kpis.unmet)}</td>
    <td>${badge(p.check.passed ? "passed" : "failed")}</td></tr>`).join("");
  $("#plans-note").hidden = state.plans.length > 0;
  for (const b of document.querySelectorAll("[data-show]")) b.addEventListener("click", () => showPlan(b.dataset.show));
  for (const b of document.querySelectorAll("[data-forget]")) b.addEventListener("click", () => forgetPlan(b.dataset.forget));
  for (const c of document.querySelectorAll("[data-pick]")) c.addEventListener("change", () => {
    if (c.checked) state.compare.add(c.dataset.pick); else state.compare.delete(c.dataset.pick);
    $("#compare").disabled = state.compare.size < 2;
    $("#compare").textContent = `Compare selected (${state.compare.size})`;
  });
  for (const id of [...state.compare]) if (!state.plans.some((p) => p.id === id)) state.compare.delete(id);
  $("#compare").disabled = state.compare.size < 2;
  $("#compare").textContent = `Compare selected (${state.compare.size})`;
}

async function showPlan(id) {
  const plan = await api(`/api/plans/${encodeURIComponent(id)}`);
  if (plan.instance !== state.instance.id) await chooseInstance(plan.instance);
  state.shown = plan;
  state.compare.add(id);
  renderPlans();
  redraw();
}

async function forgetPlan(id) {
  await api(`/api/plans/${encodeURIComponent(id)}`, { method: "DELETE" });
  state.compare.delete(id);
  if (state.shown?.id === id) state.shown = null;
  await refreshPlans();
  redraw();
}

// ------------------------------------------------------------------ ranking

function renderRank() {
  const r = state.rank;
  if (!r) { $("#rank-result").innerHTML = ""; return; }
  const row = (x, free) => `<tr class="${free ? "free" : ""}">
    <td class="n">${free ? "free" : x.rank ?? "–"}</td>
    <td><b>${esc(x.site_name || x.site || "none")}</b> ${badge(x.status)}<div class="muted">${esc(x.site || "")}${x.serves_count ? ` · serves ${x.serves_count} municipalities` : ""}</div></td>
    <td class="n">${fmtMoney(x.objective)}${free ? "" : `<div class="muted">${x.difference >= 0 ? "+" : ""}${fmtMoney(x.difference)}</div><div class="muted">${fmtPct(x.difference_pct, 3)}</div>`}</td>
    <td class="n">${fmtPlaces(x.unmet)}</td><td class="n">${fmtMin(x.mean_travel_minutes)}</td>
    <td class="actions">${x.plan ? `<button class="small" data-show-rank="${esc(x.plan)}">Show</button>` : ""}
      ${!free && x.site ? `<button class="small" data-force-rank="${esc(x.site)}">Force</button>` : ""}</td></tr>`;
  $("#rank-result").innerHTML = `<p class="note">${esc(r.province_name)} (${esc(r.province)}): cold solve ${r.cold_seconds.toFixed(2)} s on ${r.blocks} blocks, then one warm re-solve per candidate; ${r.seconds.toFixed(1)} s in all. Objective with its difference from the free optimum; unmet places and mean travel (minutes) of the province's municipalities.</p>
    <div class="scroll"><table><thead><tr><th class="n">Rank</th><th>Large site</th><th class="n">Objective</th><th class="n">Unmet</th><th class="n">Mean min</th><th></th></tr></thead>
    <tbody>${row(r.free, true)}${r.table.map((x) => row(x, false)).join("")}</tbody></table></div>`;
  for (const b of document.querySelectorAll("[data-show-rank]")) b.addEventListener("click", () => showPlan(b.dataset.showRank));
  for (const b of document.querySelectorAll("[data-force-rank]")) b.addEventListener("click", () => { fix(b.dataset.forceRank, "force"); selectSite(b.dataset.forceRank); });
}

// ------------------------------------------------------------------ comparison

async function compare() {
  const ids = state.plans.map((p) => p.id).filter((id) => state.compare.has(id));
  $("#compare").disabled = true;
  $("#compare").textContent = "Comparing…";
  try {
    const c = await api("/api/compare", { json: { plans: ids } });
    showProblems(null);
    renderComparison(c, ids);
  } catch (error) {
    showProblems(error);
  } finally {
    renderPlans();
  }
}

function renderComparison(c, ids) {
  const section = $("#comparison");
  $("#compare-report").href = "/api/report?" + ids.map((id) => `plans=${encodeURIComponent(id)}`).join("&");
  const labels = ids.map((id) => `<b>${esc(id)}</b> ${esc(c.labels[id])}`).join(" · ");
  $("#compare-tables").innerHTML = `<p class="note" style="grid-column:1/-1">${labels}. Differences are from ${esc(ids[0])}; money in ${esc(currency())}.</p>` +
    c.tables.map((t) => `<div><h4>${esc(t.title)}</h4>${t.rows.length ? `<div class="scroll"><table><thead><tr>${t.headers.map((h, k) => `<th class="${t.align[k] === "r" ? "n" : ""}">${esc(h)}</th>`).join("")}</tr></thead><tbody>${t.rows.map((r) => `<tr>${r.map((v, k) => `<td class="${t.align[k] === "r" ? "n" : ""}">${esc(v)}</td>`).join("")}</tr>`).join("")}</tbody></table></div>` : `<p class="note">none</p>`}</div>`).join("");
  const captions = { map: "Map (as in the report): share of demand unmet per municipality, open sites sized by places", provinces: "Placed and unmet places per province against its task", costs: "Cost components", travel: "Travel time per person placed" };
  $("#compare-figures").innerHTML = Object.entries(c.figures || {}).map(([name, svg]) => `<figure id="compare-${name}" class="${name === "map" ? "wide" : ""}">${svg}<figcaption class="note">${esc(captions[name] || name)}</figcaption></figure>`).join("");
  section.hidden = false;
  section.scrollIntoView({ block: "start" });
}

// ------------------------------------------------------------------ wiring

function wire() {
  $("#instance").addEventListener("change", (e) => chooseInstance(e.target.value));
  $("#upload").addEventListener("change", (e) => { if (e.target.files.length) upload(e.target.files[0]); e.target.value = ""; });
  $("#preset").addEventListener("change", renderPolicyForm);
  $("#province").addEventListener("change", (e) => { state.province = e.target.value; redraw(); });
  $("#map").addEventListener("click", () => { if (state.selected) selectSite(state.selected); });
  $("#solve").addEventListener("click", () => startJob("/api/solve", {
    ...policyRequest(), time_limit: Number($("#time-limit").value), gap: Number($("#gap").value), label: $("#label").value.trim(),
  }));
  $("#rank").addEventListener("click", () => {
    if (!state.province) { showProblems(new ApiError(0, { message: "Choose a province first (Policy, Province)." })); return; }
    startJob("/api/whatif", { ...policyRequest(), province: state.province, time_limit: Number($("#time-limit").value) });
  });
  $("#cancel").addEventListener("click", async () => {
    if (state.job) { $("#cancel").disabled = true; await api(`/api/jobs/${state.job.id}/cancel`, { method: "POST" }); }
  });
  $("#compare").addEventListener("click", compare);
  for (const tab of document.querySelectorAll(".tabs button")) tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll(".tabs button")) t.classList.toggle("active", t === tab);
    for (const pane of document.querySelectorAll(".tab")) pane.hidden = pane.id !== `tab-${tab.dataset.tab}`;
  });
}

async function start() {
  wire();
  await loadPolicies();
  await loadInstances();
  await refreshPlans();
  document.body.dataset.ready = "true";
}

start();
