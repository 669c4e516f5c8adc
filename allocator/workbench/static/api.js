// The API reference, drawn from the OpenAPI description the server generates (/openapi.json).
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function typeOf(schema) {
  if (!schema) return "";
  if (schema.$ref) { const name = schema.$ref.split("/").pop(); return `<a href="#schema-${esc(name)}">${esc(name)}</a>`; }
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  if (schema.type === "array") return `array of ${typeOf(schema.items)}`;
  if (schema.enum) return schema.enum.map((v) => `"${esc(v)}"`).join(" | ");
  if (schema.type === "object" && schema.additionalProperties) return `object of ${typeOf(schema.additionalProperties)}`;
  return esc(schema.type || "any");
}

function fields(schema) {
  const required = new Set(schema.required || []);
  const rows = Object.entries(schema.properties || {}).map(([name, p]) => `<tr><td><code>${esc(name)}</code>${required.has(name) ? " *" : ""}</td><td>${typeOf(p)}</td><td>${p.default !== undefined ? `<code>${esc(JSON.stringify(p.default))}</code>` : ""}</td><td>${esc(p.description || "")}</td></tr>`);
  return rows.length ? `<table><thead><tr><th>Field</th><th>Type</th><th>Default</th><th>Meaning</th></tr></thead><tbody>${rows.join("")}</tbody></table>` : "";
}

async function start() {
  const spec = await (await fetch("/openapi.json")).json();
  document.querySelector("#api-intro").innerHTML = `<h2>${esc(spec.info.title)} (version ${esc(spec.info.version)})</h2><p>${esc(spec.info.description || "")}</p>
    <p class="note">JSON in and out. Every error is answered with <code>{"message", "problems": [{"file", "row", "column", "cell", "value", "message", "text"}]}</code>: bad input with status 422 and every problem (its field and value), a body that is not JSON with 400, unknown ids and addresses with 404 (no problems listed). Solves and rankings are jobs: POST returns the job (status 202); poll <code>GET /api/jobs/{id}</code> until its status is done, failed or cancelled. Fields marked * are required.</p>`;
  const blocks = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters || []).map((p) => `<tr><td><code>${esc(p.name)}</code>${p.required ? " *" : ""}</td><td>${esc(p.in)}</td><td>${typeOf(p.schema)}</td><td>${esc(p.description || p.schema?.description || "")}</td></tr>`);
      const body = op.requestBody?.content;
      const bodyType = body ? Object.entries(body).map(([kind, c]) => `${esc(kind)}: ${typeOf(c.schema)}`).join("; ") : "";
      const codes = Object.entries(op.responses || {}).map(([code, r]) => `<code>${esc(code)}</code> ${esc(r.description)}`).join(", ");
      blocks.push(`<article class="endpoint"><h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
        <p>${esc(op.description || op.summary || "")}</p>
        ${params.length ? `<table><thead><tr><th>Parameter</th><th>In</th><th>Type</th><th>Meaning</th></tr></thead><tbody>${params.join("")}</tbody></table>` : ""}
        ${bodyType ? `<p>Body: ${bodyType}</p>` : ""}<p class="note">Responses: ${codes}</p></article>`);
    }
  }
  document.querySelector("#api-paths").innerHTML = `<h2>Endpoints</h2>${blocks.join("")}`;
  const schemas = Object.entries(spec.components?.schemas || {});
  document.querySelector("#api-schemas").innerHTML = `<h2>Request and error bodies</h2>` + schemas.map(([name, s]) => `<article id="schema-${esc(name)}"><h3>${esc(name)}</h3><p>${esc(s.description || "")}</p>${fields(s)}</article>`).join("");
  document.body.dataset.ready = "true";
}

start();
