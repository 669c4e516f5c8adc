// The map: municipalities (bundled boundaries, or points), province outlines, sites by kind and
// status, and for a plan the flows from each municipality to the sites that serve it.
// Everything is plain SVG in the instance's own coordinates (GET /api/instances/{id}/map).
// A plan over several periods is drawn one period at a time: its sites are open, on standby or closed.

const NS = "http://www.w3.org/2000/svg";
const LARGE = "#3f2a7a", REGULAR = "#2b83ba", FORCED = "#1e7d32", FORBIDDEN = "#b3261e";
const STANDBY_FILL = { large: "#c9bfe6", regular: "#b5d6ea" };  // kept ready, not in use
// Share of a municipality's demand left unmet: the report's colours.
const UNMET_STOPS = ["#e3ebe0", "#fee08b", "#fdae61", "#d73027", "#8c1a10"];
const NO_PLAN = "#dfe6ee", NO_DEMAND = "#d9d9d9";
const PROVINCE_TINTS = ["#e4ebf3", "#dde6ef", "#e8eef5", "#e1e8f1"];
const MAX_NAMED_POINTS = 40;  // a map drawn from points names its municipalities when there are at most this many

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function title(node, text) {
  el("title", {}, node).textContent = text;
}

export function unmetColour(share) {
  const t = Math.max(0, Math.min(1, share)) * (UNMET_STOPS.length - 1);
  const k = Math.min(Math.floor(t), UNMET_STOPS.length - 2);
  const mix = (a, b, f) => Math.round(a + (b - a) * f);
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const [a, b] = [rgb(UNMET_STOPS[k]), rgb(UNMET_STOPS[k + 1])];
  return `rgb(${a.map((v, i) => mix(v, b[i], t - k)).join(",")})`;
}

const places = (v) => Math.round(v).toLocaleString("en");

// Draw `map` into `svg`. opts: plan (detail or null; with periods, the selected period's sites, flows
// and municipalities), province (code or ""), force, forbid (Sets), selected (site id), onSite(siteId), fmtMoney.
export function drawMap(svg, map, opts) {
  svg.replaceChildren();
  const plan = opts.plan;
  const scale = map.width / 1000;
  const provinceIndex = new Map(map.provinces.map((p, k) => [p.id, k]));
  const muniById = new Map(map.municipalities.map((m) => [m.id, m]));
  const siteById = new Map(map.sites.map((s) => [s.id, s]));
  const planMunis = new Map((plan?.municipalities || []).map((m) => [m.municipality, m]));
  const planSites = new Map((plan?.sites || []).map((s) => [s.site, s]));

  const gMunis = el("g", { id: "layer-municipalities" }, svg);
  for (const m of map.municipalities) {
    const pm = planMunis.get(m.id);
    let fill = PROVINCE_TINTS[(provinceIndex.get(m.province) || 0) % PROVINCE_TINTS.length];
    const demand = pm?.demand ?? m.demand;  // with periods, the period's need
    if (plan) fill = demand > 0 && pm ? unmetColour(pm.unmet / demand) : NO_DEMAND;
    const dim = opts.province && m.province !== opts.province;
    const attrs = { class: "muni", fill, "data-municipality": m.id, opacity: dim ? 0.35 : 1 };
    const node = m.path
      ? el("path", { ...attrs, d: m.path }, gMunis)
      : el("circle", { ...attrs, cx: m.x, cy: m.y, r: 6 * scale, stroke: "#888" }, gMunis);
    let text = `${m.name} (${m.id}): demand ${places(demand)} places`;
    if (pm) text += `; placed ${places(pm.placed)}, unmet ${places(pm.unmet)}` + (pm.mean_travel_minutes != null ? `; mean travel ${pm.mean_travel_minutes.toFixed(1)} min` : "");
    title(node, text);
  }
  if (!map.polygons && map.municipalities.length <= MAX_NAMED_POINTS) {
    const gLabels = el("g", { id: "layer-labels" }, svg);
    for (const m of map.municipalities) {
      el("text", { class: "label", x: m.x + 9 * scale, y: m.y - 9 * scale, "font-size": 13 * scale }, gLabels).textContent = m.name;
    }
  }
  const gProv = el("g", { id: "layer-provinces" }, svg);
  for (const p of map.provinces) {
    if (!p.path) continue;
    const dim = opts.province && p.id !== opts.province;
    el("path", { class: "province" + (dim ? " dim" : ""), d: p.path, "data-province": p.id }, gProv);
  }

  if (plan) {
    const gFlows = el("g", { id: "layer-flows" }, svg);
    const most = Math.max(1, ...plan.flows.map((f) => f.placed));
    for (const f of plan.flows) {
      const m = muniById.get(f.municipality), s = siteById.get(f.site);
      if (!m || !s || f.placed <= 0) continue;
      const dim = opts.province && m.province !== opts.province;
      el("line", {
        class: "flow", x1: m.x, y1: m.y, x2: s.x, y2: s.y, opacity: dim ? 0.12 : 0.55,
        stroke: s.kind === "large" ? LARGE : REGULAR,
        "stroke-width": (0.6 + 4.4 * Math.sqrt(f.placed / most)) * scale,
        "data-flow": `${f.municipality}>${f.site}`,
      }, gFlows);
    }
  }

  const gSites = el("g", { id: "layer-sites" }, svg);
  // Regular sites first, so that large ones are drawn on top.
  const ordered = [...map.sites].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "large" ? 1 : -1));
  for (const s of ordered) {
    const ps = planSites.get(s.id);
    const open = plan ? Boolean(ps && ps.open_site === 1) : s.status === "existing";
    const standby = Boolean(plan && ps?.state === "standby");
    const colour = s.kind === "large" ? LARGE : REGULAR;
    const r = (s.kind === "large" ? 7 : 4) * scale;
    const dim = opts.province && s.province !== opts.province;
    const attrs = {
      class: "site" + (standby ? " standby" : plan && !open ? " closed" : ""),
      fill: open ? colour : standby ? STANDBY_FILL[s.kind] : "#fff", stroke: colour, "data-site": s.id,
      "data-state": ps?.state || (open ? "open" : "closed"), opacity: dim ? 0.4 : 1,
    };
    const node = s.kind === "large"
      ? el("rect", { ...attrs, x: s.x - r, y: s.y - r, width: 2 * r, height: 2 * r, rx: 1.5 * scale }, gSites)
      : el("circle", { ...attrs, cx: s.x, cy: s.y, r }, gSites);
    let text = `${s.name} (${s.id}, ${s.kind} ${s.status}): capacity ${places(s.capacity)}, min ${places(s.min_size)} places; fixed ${opts.fmtMoney(s.fixed_cost)}, ${opts.fmtMoney(s.cost_per_place)} per place`;
    if (ps) text += `; ${ps.state || (open ? "open" : "closed")}, places ${places(ps.placed || 0)}`;
    title(node, text);
    node.addEventListener("click", (event) => { event.stopPropagation(); opts.onSite(s.id); });
    const fixed = opts.force.has(s.id) ? FORCED : opts.forbid.has(s.id) ? FORBIDDEN : null;
    if (fixed || s.id === opts.selected) {
      el("circle", { class: "fixmark", cx: s.x, cy: s.y, r: r + 4 * scale, stroke: fixed || "#000", "stroke-dasharray": fixed ? "" : `${2 * scale} ${2 * scale}` }, gSites);
    }
  }
  zoom(svg, map, opts.province);
}

// Fit the view to a province (its municipalities and sites), or to the whole instance.
function zoom(svg, map, province) {
  let box = [0, 0, map.width, map.height];
  if (province) {
    const nodes = svg.querySelectorAll(`[data-province="${province}"]`);
    let b = null;
    if (nodes.length) {
      b = nodes[0].getBBox();
    } else {
      const xs = [], ys = [];
      for (const m of map.municipalities.filter((m) => m.province === province)) { xs.push(m.x); ys.push(m.y); }
      if (xs.length) b = { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
    }
    if (b) {
      const pad = Math.max(b.width, b.height) * 0.1 + 30;
      box = [b.x - pad, b.y - pad, b.width + 2 * pad, b.height + 2 * pad];
      if (box[3] < 0.5 * box[2]) {  // a province drawn from points along a line: keep a readable height
        box[1] -= (0.5 * box[2] - box[3]) / 2;
        box[3] = 0.5 * box[2];
      }
    }
  }
  svg.setAttribute("viewBox", box.map((v) => v.toFixed(1)).join(" "));
}

// The legend, with units.
export function drawLegend(node, map, plan) {
  const swatch = (svgBody) => `<svg width="22" height="16" viewBox="0 0 22 16">${svgBody}</svg>`;
  const items = [
    [swatch(`<rect x="5" y="2" width="12" height="12" rx="2" fill="${LARGE}" stroke="${LARGE}"/>`), "large site, open"],
    [swatch(`<rect x="5" y="2" width="12" height="12" rx="2" fill="#fff" stroke="${LARGE}" stroke-width="1.6"/>`), plan ? "large site, closed" : "large candidate"],
    [swatch(`<circle cx="11" cy="8" r="4.5" fill="${REGULAR}" stroke="${REGULAR}"/>`), "regular site, open"],
    [swatch(`<circle cx="11" cy="8" r="4.5" fill="#fff" stroke="${REGULAR}" stroke-width="1.6"/>`), plan ? "regular site, closed" : "regular candidate"],
    ...(plan?.horizon ? [
      [swatch(`<rect x="5" y="2" width="12" height="12" rx="2" fill="${STANDBY_FILL.large}" stroke="${LARGE}" stroke-dasharray="2 1.5"/>`), "large site on standby"],
      [swatch(`<circle cx="11" cy="8" r="4.5" fill="${STANDBY_FILL.regular}" stroke="${REGULAR}" stroke-dasharray="2 1.5"/>`), "regular site on standby"],
    ] : []),
    [swatch(`<circle cx="11" cy="8" r="6.5" fill="none" stroke="${FORCED}" stroke-width="2"/>`), "forced open"],
    [swatch(`<circle cx="11" cy="8" r="6.5" fill="none" stroke="${FORBIDDEN}" stroke-width="2"/>`), "forbidden"],
  ];
  if (plan) {
    items.push([swatch(`<line x1="1" y1="8" x2="21" y2="8" stroke="${LARGE}" stroke-width="4" opacity=".6"/>`), "placed at a large site (width: places)"]);
    items.push([swatch(`<line x1="1" y1="8" x2="21" y2="8" stroke="${REGULAR}" stroke-width="2" opacity=".6"/>`), "placed at a regular site"]);
    const ramp = [0, 0.25, 0.5, 0.75, 1].map((t, k) => `<rect x="${k * 12}" y="2" width="12" height="12" fill="${unmetColour(t)}"/>`).join("");
    items.push([`<svg width="60" height="16" viewBox="0 0 60 16">${ramp}</svg>`, "municipality: share of demand unmet, 0 to 100%"]);
  }
  node.innerHTML = items.map(([s, t]) => `<span>${s} ${t}</span>`).join("") +
    (map.attribution ? `<span>Boundaries: ${map.attribution}</span>` : "<span>Municipalities drawn at their points (no bundled boundaries for this instance)</span>");
}
