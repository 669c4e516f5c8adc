// The workbench page: every number comes from the JSON API (see /docs); nothing is computed here
// but what is drawn.
import { drawLegend, drawMap } from "./map.js";

const $ = (sel) => document.querySelector(sel);
const state = {
  instances: [], instance: null, map: null, presets: [], keys: [],
  overrides: {}, force: new Set(), forbid: new Set(), province: "",
  plans: [], shown: null, selected: null, job: null, rank: null, compare: new Set(),
  period: null, group: "",  // with periods: the period the map shows, the group the map and the group table show
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
  const h = inst.horizon;
  $("#instance-note").textContent = h
    ? `${inst.provinces.length} provinces, ${inst.municipalities} municipalities, ${h.periods.length} periods (${h.periods[0]} … ${h.periods[h.periods.length - 1]}), scenarios ${h.scenarios.join(", ")}; costs per ${inst.planning_period}`
    : `${inst.provinces.length} provinces, ${inst.municipalities} municipalities, demand ${fmtPlaces(inst.total_demand)} ${inst.units}; costs per ${inst.planning_period}`;
  renderHorizonControls();
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

// An instance with periods: the scenario to plan for and the myopic baseline; the what-if re-plans the periods.
function renderHorizonControls() {
  const h = state.instance.horizon;
  $("#horizon-controls").hidden = !h;
  $("#scenario").innerHTML = h ? `<option value="">band: all ${h.scenarios.length} at once</option>` + h.scenarios.map((w) => `<option value="${esc(w)}">${esc(w)} alone</option>`).join("") : "";
  $("#scenario-row").hidden = !h || h.scenarios.length < 2;
  $("#myopic").checked = false;
  $("#periods-note").textContent = h ? `Planned over all ${h.periods.length} periods at once; the map shows one period of the plan.` : "";
  $("#rank-periods").hidden = !h;
  $("#rank-snapshot").hidden = Boolean(h);
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
  const drawn = plan?.horizon ? inPeriod(plan) : plan;
  drawMap($("#map"), state.map, {
    plan: drawn, province: state.province, force: state.force, forbid: state.forbid, selected: state.selected,
    onSite: selectSite, fmtMoney,
  });
  drawLegend($("#legend"), state.map, drawn);
  const where = state.province ? state.instance.provinces.find((p) => p.id === state.province).name : state.instance.name;
  if (plan?.horizon) {
    const k = plan.period_kpis.find((r) => r.period === state.period && r.scenario === plan.scenario);
    const group = state.group ? ` · ${esc(groupName(plan, state.group))}` : "";
    $("#map-title").innerHTML = `${esc(where)} · plan <b>${esc(plan.id)}</b> ${esc(plan.label)} ${badge(plan.status)} objective ${fmtMoney(plan.objective)}, expected cost ${fmtMoney(plan.kpis.expected_total_cost)}`
      + `<div class="muted" id="period-title">period <b>${esc(state.period)}</b>, scenario ${esc(plan.scenario)}${group}: need ${fmtPlaces(k?.need)}, placed ${fmtPlaces(k?.placed)}, emergency ${fmtPlaces(k?.emergency)}, unmet ${fmtPlaces(k?.unmet)} places; ${fmtPlaces(k?.open_sites)} sites open, ${fmtPlaces(k?.standby_sites)} on standby</div>`;
  } else {
    $("#map-title").innerHTML = plan
      ? `${esc(where)} · plan <b>${esc(plan.id)}</b> ${esc(plan.label)} ${badge(plan.status)} objective ${fmtMoney(plan.objective)}, cost ${fmtMoney(plan.kpis.total_cost)}, unmet ${fmtPlaces(plan.kpis.unmet)} places${whyUnmet(plan)}`
      : `${esc(where)} · candidate and existing sites`;
  }
  $("#period-bar").hidden = !plan?.horizon;
  renderHorizon(plan?.horizon ? plan : null);
  renderSiteCard();
}

// ------------------------------------------------------------------ plans over several periods

const groupName = (plan, g) => plan.horizon.groups.find((x) => x.group === g)?.name || g;
const sumBy = (rows, key, fields) => {
  const out = new Map();
  for (const r of rows) {
    const k = key(r);
    const acc = out.get(k) || Object.fromEntries([...Object.entries(r)].filter(([f]) => !fields.includes(f)).concat(fields.map((f) => [f, 0])));
    for (const f of fields) acc[f] += r[f] || 0;
    out.set(k, acc);
  }
  return [...out.values()];
};

// The plan as the map draws a snapshot: the selected period's sites (state, places), flows and municipalities,
// of the selected group only when one is chosen.
function inPeriod(plan) {
  const t = state.period;
  const ofGroup = (r) => !state.group || r.group === state.group;
  const flows = sumBy(plan.flows.filter((f) => f.period === t && ofGroup(f)), (f) => `${f.municipality}>${f.site}`, ["placed"]);
  const placedAt = new Map();
  for (const f of flows) placedAt.set(f.site, (placedAt.get(f.site) || 0) + f.placed);
  const sites = plan.timeline.map((s) => {
    const p = s.periods.find((x) => x.period === t) || {};
    return { site: s.site, state: p.state, open_site: p.state === "open" ? 1 : 0, placed: state.group ? placedAt.get(s.site) || 0 : p.placed };
  });
  const municipalities = sumBy(plan.municipalities.filter((m) => m.period === t && ofGroup(m)), (m) => m.municipality, ["demand", "placed", "emergency", "unmet"]);
  return { ...plan, sites, flows, municipalities };
}

function renderHorizon(plan) {
  const section = $("#horizon");
  section.hidden = !plan;
  if (!plan) return;
  const h = plan.horizon;
  const periods = h.periods;
  $("#horizon-title").innerHTML = `Periods of plan <b>${esc(plan.id)}</b> <span class="muted">${esc(h.plan)} plan for ${esc(h.scenario)}${h.scenarios.length > 1 ? ` (${esc(h.scenarios.join(", "))})` : ""}; the timeline, places and groups in scenario ${esc(plan.scenario)}</span>`;
  // The KPIs per period and scenario.
  const cols = [["need", "Need"], ["placed", "Placed"], ["emergency", "Emergency"], ["unmet", "Unmet"], ["open_sites", "Open sites"], ["standby_sites", "Standby"], ["open_capacity", "Open capacity"]];
  $("#period-kpis").innerHTML = `<thead><tr><th>Period</th><th>Scenario</th>${cols.map(([, t]) => `<th class="n">${t}</th>`).join("")}<th class="n">Openings</th><th class="n">Closings</th><th class="n">Cost</th></tr></thead><tbody>` +
    plan.period_kpis.map((r) => `<tr data-period="${esc(r.period)}" data-scenario="${esc(r.scenario)}" class="${r.period === state.period && r.scenario === plan.scenario ? "period-shown" : ""}"><td>${esc(r.period)}</td><td>${esc(r.scenario)}</td>${cols.map(([c]) => `<td class="n">${fmtPlaces(r[c])}</td>`).join("")}<td class="n">${r.openings ? `<span class="event opening">+${r.openings}</span>` : "0"}</td><td class="n">${r.closings ? `<span class="event closing">−${r.closings}</span>` : "0"}</td><td class="n">${fmtMoney(r.total_cost)}</td></tr>`).join("") +
    `</tbody><tfoot>${plan.scenario_kpis.map((r) => `<tr><td><b>all</b></td><td>${esc(r.scenario)}</td><td class="n">${fmtPlaces(r.need)}</td><td class="n">${fmtPlaces(r.placed)}</td><td class="n">${fmtPlaces(r.emergency)}</td><td class="n">${fmtPlaces(r.unmet)}</td><td></td><td></td><td></td><td class="n">+${r.openings}</td><td class="n">−${r.closings}</td><td class="n">${fmtMoney(r.total_cost)}</td></tr>`).join("")}</tfoot>`;
  for (const row of document.querySelectorAll("#period-kpis tbody tr")) row.addEventListener("click", () => choosePeriod(row.dataset.period));
  renderCapacity(plan);
  // The timeline per site: the sites of the province shown that are in use or change in some period.
  const used = plan.timeline.filter((s) => (!state.province || s.province === state.province) && s.periods.some((p) => p.state !== "closed" || p.event));
  const cell = (p) => {
    const mark = p.event === "opening" ? `<span class="event opening">+</span>` : p.event === "closing" ? `<span class="event closing">−</span>` : p.event === "extension" ? `<span class="event">e</span>` : "";
    const text = p.state === "open" ? `open ${fmtPlaces(p.placed)}` : p.state === "standby" ? "standby (s)" : "closed";
    return `<td class="state ${esc(p.state)}${p.period === state.period ? " period-shown" : ""}" data-state="${esc(p.state)}" data-period="${esc(p.period)}">${mark}${text}</td>`;
  };
  $("#timeline").innerHTML = `<thead><tr><th>Site</th><th>Kind</th><th>Province</th>${periods.map((t) => `<th class="n${t === state.period ? " period-shown" : ""}">${esc(t)}</th>`).join("")}</tr></thead><tbody>` +
    (used.length ? used.map((s) => `<tr data-site="${esc(s.site)}"><td><b>${esc(s.name)}</b> <code>${esc(s.site)}</code></td><td>${esc(s.kind)} ${esc(s.status)}</td><td>${esc(s.province)}</td>${s.periods.map(cell).join("")}</tr>`).join("")
      : `<tr><td colspan="${3 + periods.length}" class="muted">no site in use</td></tr>`) + "</tbody>";
  // Each group's need, places and unmet places per period.
  $("#groups-panel").hidden = !plan.groups.length;
  const groups = plan.groups.filter((g) => !state.group || g.group === state.group);
  $("#group-table").innerHTML = plan.groups.length ? `<thead><tr><th>Group</th><th>Period</th><th class="n">Need</th><th class="n">Placed</th><th class="n">Emergency</th><th class="n">Unmet</th></tr></thead><tbody>` +
    groups.map((g) => g.periods.map((p) => `<tr data-group="${esc(g.group)}" data-period="${esc(p.period)}" class="${p.period === state.period ? "period-shown" : ""}"><td>${esc(g.name)} <code>${esc(g.group)}</code></td><td>${esc(p.period)}</td><td class="n">${fmtPlaces(p.need)}</td><td class="n">${fmtPlaces(p.placed)}</td><td class="n">${fmtPlaces(p.emergency)}</td><td class="n">${fmtPlaces(p.unmet)}</td></tr>`).join("")).join("") + "</tbody>" : "";
}

// Capacity open against the need per period, in the scenario shown: the country's, or the province's when one is chosen.
function renderCapacity(plan) {
  const province = state.province;
  const rows = province
    ? plan.provinces.filter((r) => r.province === province)
    : plan.period_kpis.filter((r) => r.scenario === plan.scenario);
  const name = province ? state.instance.provinces.find((p) => p.id === province)?.name || province : state.instance.name;
  $("#capacity-title").textContent = `Capacity open against the need: ${name}, scenario ${plan.scenario} (places)`;
  const W = 560, H = 230, left = 56, right = 12, top = 14, bottom = 40;
  const most = Math.max(1, ...rows.map((r) => Math.max(r.open_capacity || 0, r.need || 0)));
  const step = (W - left - right) / Math.max(1, rows.length);
  const y = (v) => top + (H - top - bottom) * (1 - v / most);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * most));
  let svg = `<svg viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Capacity open against the need per period">`;
  svg += ticks.map((v) => `<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e2e5e9"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#5f6368">${fmtPlaces(v)}</text>`).join("");
  const needs = [];
  rows.forEach((r, k) => {
    const x = left + k * step, w = step * 0.56, cx = x + step / 2;
    const shown = r.period === state.period;
    svg += `<rect class="capacity" data-period="${esc(r.period)}" x="${cx - w / 2}" y="${y(r.open_capacity || 0)}" width="${w}" height="${y(0) - y(r.open_capacity || 0)}" fill="#3f2a7a" opacity="${shown ? 0.85 : 0.45}"><title>${esc(r.period)}: capacity open ${fmtPlaces(r.open_capacity)}, need ${fmtPlaces(r.need)}, placed ${fmtPlaces(r.placed)}, unmet ${fmtPlaces(r.unmet)} places</title></rect>`;
    svg += `<text x="${cx}" y="${H - bottom + 16}" text-anchor="middle" font-size="11" font-weight="${shown ? 700 : 400}">${esc(r.period)}</text>`;
    needs.push([cx, y(r.need || 0)]);
  });
  svg += `<polyline points="${needs.map(([a, b]) => `${a},${b}`).join(" ")}" fill="none" stroke="#b3261e" stroke-width="2"/>`;
  svg += needs.map(([a, b]) => `<circle cx="${a}" cy="${b}" r="3.5" fill="#b3261e"/>`).join("");
  svg += `<rect x="${left}" y="${H - 14}" width="12" height="10" fill="#3f2a7a" opacity=".6"/><text x="${left + 16}" y="${H - 5}" font-size="11">capacity of the open sites</text>`;
  svg += `<line x1="${left + 190}" x2="${left + 210}" y1="${H - 9}" y2="${H - 9}" stroke="#b3261e" stroke-width="2"/><text x="${left + 214}" y="${H - 5}" font-size="11">need</text></svg>`;
  $("#capacity-chart").innerHTML = svg;
  for (const bar of document.querySelectorAll("#capacity-chart rect.capacity")) bar.addEventListener("click", () => choosePeriod(bar.dataset.period));
}

function choosePeriod(period) {
  state.period = period;
  $("#period").value = period;
  redraw();
}

// The selectors above the map for a plan over several periods: period, scenario shown, group.
function renderPeriodBar(plan) {
  const h = plan.horizon;
  if (!h.periods.includes(state.period)) state.period = h.periods[0];
  $("#period").innerHTML = h.periods.map((t) => `<option value="${esc(t)}">${esc(t)}</option>`).join("");
  $("#period").value = state.period;
  $("#plan-scenario").innerHTML = h.scenarios.map((w) => `<option value="${esc(w)}">${esc(w)}</option>`).join("");
  $("#plan-scenario").value = plan.scenario;
  $("#plan-scenario-label").hidden = h.scenarios.length < 2;
  if (!h.groups.some((g) => g.group === state.group)) state.group = "";
  $("#group").innerHTML = `<option value="">all groups</option>` + h.groups.map((g) => `<option value="${esc(g.group)}">${esc(g.name)}</option>`).join("");
  $("#group").value = state.group;
  $("#group-label").hidden = !h.groups.length;
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

function siteInPlan(id) {
  const plan = state.shown;
  if (!plan || plan.instance !== state.instance.id) return "";
  if (plan.horizon) {
    const line = plan.timeline.find((x) => x.site === id);
    if (!line) return "";
    return `<tr><td>In plan ${esc(plan.id)}</td><td class="n">${line.periods.map((p) => `${esc(p.period)}: ${esc(p.state)}${p.state === "open" ? ` ${fmtPlaces(p.placed)}` : ""}`).join("<br>")}</td></tr>`;
  }
  const ps = plan.sites.find((x) => x.site === id);
  return ps ? `<tr><td>In plan ${esc(plan.id)}</td><td class="n">${ps.open_site ? `open, ${fmtPlaces(ps.placed)} places` : "closed"}</td></tr>` : "";
}

function renderSiteCard() {
  const card = $("#site-card");
  const s = state.map.sites.find((x) => x.id === state.selected);
  if (!s) { card.hidden = true; return; }
  const how = state.force.has(s.id) ? "forced" : state.forbid.has(s.id) ? "forbidden" : "free";
  card.innerHTML = `<h4>${esc(s.name)}</h4><code>${esc(s.id)}</code> · ${esc(s.kind)} ${esc(s.status)} · ${esc(s.province)}
    <table><tr><td>Capacity</td><td class="n">${fmtPlaces(s.capacity)} places</td></tr>
    <tr><td>Minimum size</td><td class="n">${fmtPlaces(s.min_size)} places</td></tr>
    <tr><td>Fixed cost</td><td class="n">${fmtMoney(s.fixed_cost)}</td></tr>
    <tr><td>Cost per place</td><td class="n">${fmtMoney(s.cost_per_place)}</td></tr>
    ${siteInPlan(s.id)}</table>
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
  // A plan over several periods: expected cost and unmet place-periods; no workbook.
  $("#plans-table tbody").innerHTML = state.plans.map((p) => `<tr data-plan="${esc(p.id)}" class="${p.id === shown ? "shown" : ""}">
    <td><input type="checkbox" data-pick="${esc(p.id)}" ${state.compare.has(p.id) ? "checked" : ""} title="Compare"></td>
    <td><b>${esc(p.id)}</b> ${esc(p.label)}<div class="muted">${esc(p.instance)} · ${esc(p.made.how)}${p.horizon ? ` · ${p.horizon.periods.length} periods, ${esc(p.horizon.scenario)}` : ""}</div>
      <div class="downloads"><button class="small" data-show="${esc(p.id)}">Show</button>
      <a class="small button" data-download="zip" href="/api/plans/${esc(p.id)}/download?format=zip" download>zip</a>
      ${p.horizon ? "" : `<a class="small button" data-download="xlsx" href="/api/plans/${esc(p.id)}/download?format=xlsx" download>xlsx</a>`}
      <a class="small button" data-download="html" href="/api/plans/${esc(p.id)}/download?format=html" download>report</a>
      <button class="small" data-forget="${esc(p.id)}" title="Forget this plan">✕</button></div></td>
    <td>${badge(p.status)}</td>
    <td class="n">${fmtMoney(p.objective)}<div class="muted">${p.horizon ? `expected cost ${fmtMoney(p.kpis.expected_total_cost)}` : `cost ${fmtMoney(p.kpis.total_cost)}`}</div></td>
    <td class="n">${p.horizon ? `${fmtPlaces(p.kpis.expected_unmet_place_periods)}<div class="muted">place-periods</div>` : fmtPlaces(p.kpis.unmet)}</td>
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

async function showPlan(id, scenario = null) {
  const query = scenario ? `?scenario=${encodeURIComponent(scenario)}` : "";
  const plan = await api(`/api/plans/${encodeURIComponent(id)}${query}`);
  if (plan.instance !== state.instance.id) await chooseInstance(plan.instance);
  state.shown = plan;
  if (plan.horizon) renderPeriodBar(plan);
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
  if (r.horizon) { renderHorizonRank(r); return; }
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

// The what-if over the periods: each candidate a plan over every period; expected cost and unmet place-periods,
// the one site plan's openings and closings, and per period what the province's large sites hold.
function renderHorizonRank(r) {
  const row = (x, free) => `<tr class="${free ? "free" : ""}" data-rank-site="${esc(free ? "free" : x.site)}">
    <td class="n">${free ? "free" : x.rank ?? "–"}</td>
    <td><b>${esc(x.site_name || x.site || "none")}</b> ${badge(x.status)}${x.check === "failed" ? ` ${badge("failed")}` : ""}<div class="muted">${esc(x.site || "")}${x.serves_count ? ` · serves ${x.serves_count} municipalit${x.serves_count === 1 ? "y" : "ies"}` : ""}</div></td>
    <td class="n">${fmtMoney(x.objective)}${free ? "" : `<div class="muted">${x.difference >= 0 ? "+" : ""}${fmtMoney(x.difference)}</div><div class="muted">${fmtPct(x.difference_pct, 3)}</div>`}</td>
    <td class="n">${fmtMoney(x.expected_total_cost)}</td>
    <td class="n">${fmtPlaces(x.expected_unmet_place_periods)}<div class="muted">province ${fmtPlaces(x.province_unmet_place_periods)}</div></td>
    <td class="n">${x.objective == null ? "–" : `+${x.openings} −${x.closings}`}</td>
    <td class="n">${fmtPlaces(x.expected_moves)}</td>
    <td class="actions">${x.plan ? `<button class="small" data-show-rank="${esc(x.plan)}">Show</button>` : ""}
      ${!free && x.site ? `<button class="small" data-force-rank="${esc(x.site)}">Force</button>` : ""}</td></tr>`;
  const periods = [...new Set(r.periods.map((p) => p.period))];
  const byPlan = new Map();
  for (const p of r.periods) byPlan.set(p.plan, [...(byPlan.get(p.plan) || []), p]);
  const cell = (p) => `<td class="n state ${esc(p.state)}" title="${esc(p.large_sites || "no large site")}">${p.state === "closed" ? "closed" : `${fmtPlaces(p.placed)}${p.state === "standby" ? " (s)" : ""}`}${p.province_unmet > 0 ? `<div class="muted">unmet ${fmtPlaces(p.province_unmet)}</div>` : ""}</td>`;
  $("#rank-result").innerHTML = `<p class="note">${esc(r.province_name)} (${esc(r.province)}) over the periods, scenarios ${esc(r.scenarios.join(", "))}: the free plan, then one plan over every period per candidate forced (open from its earliest period); ${r.seconds.toFixed(1)} s in all. Cost, unmet place-periods and moves are the whole plan's, expected over the scenarios; openings and closings those of the one site plan.</p>
    <div class="scroll"><table id="rank-table"><thead><tr><th class="n">Rank</th><th>Large site</th><th class="n">Objective</th><th class="n">Cost</th><th class="n">Unmet</th><th class="n">Open/close</th><th class="n">Moves</th><th></th></tr></thead>
    <tbody>${row(r.free, true)}${r.table.map((x) => row(x, false)).join("")}</tbody></table></div>
    <h4>Per period <span class="muted">placed at the large site (s = on standby), the province's unmet</span></h4>
    <div class="scroll"><table id="rank-periods-table"><thead><tr><th>Plan</th>${periods.map((t) => `<th class="n">${esc(t)}</th>`).join("")}</tr></thead>
    <tbody>${[...byPlan].map(([plan, rows]) => `<tr><td>${esc(plan)}</td>${rows.map(cell).join("")}</tr>`).join("")}</tbody></table></div>`;
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
  $("#compare-report").hidden = Boolean(c.horizon);  // a plan over several periods is reported on its own
  const labels = ids.map((id) => `<b>${esc(id)}</b> ${esc(c.labels[id])}`).join(" · ");
  const over = c.horizon ? " Plans over the periods: per period and scenario, money spent over the periods, KPIs expected over each plan's scenarios; each plan's report is in its own download." : "";
  $("#compare-tables").innerHTML = `<p class="note" style="grid-column:1/-1">${labels}. Differences are from ${esc(ids[0])}; money in ${esc(currency())}.${over}</p>` +
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
    ...(state.instance.horizon ? { scenario: $("#scenario").value || null, myopic: $("#myopic").checked } : {}),
  }));
  $("#period").addEventListener("change", (e) => choosePeriod(e.target.value));
  $("#plan-scenario").addEventListener("change", (e) => showPlan(state.shown.id, e.target.value));
  $("#group").addEventListener("change", (e) => { state.group = e.target.value; redraw(); });
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
