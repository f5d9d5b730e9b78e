/* fraudring workbench: ring queue, ring graph (Cytoscape.js, bundled), members, timelines,
   verdicts with confirmation. Talks only to this server's /wb/api (token from sessionStorage). */
"use strict";

const COLORS = { user: "#E53935", candidate: "#F48FB1", device: "#1E88E5", IP: "#43A047",
                 card: "#FB8C00", address: "#8E24AA" };
const SHAPES = { user: "ellipse", device: "round-rectangle", IP: "diamond", card: "tag",
                 address: "hexagon" };
const SHOWN = { members: 25, reasons: 3, entities: 30, timeline: 30, queue: 100 };
const $ = (sel) => document.querySelector(sel);
const state = { config: null, ringId: null, cy: null };

function h(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;",
    ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function when(ms) {
  if (ms === null || ms === undefined) return "";
  return new Date(Number(ms)).toISOString().slice(0, 16).replace("T", " ");
}
function num(x, digits = 3) { return x === null || x === undefined ? "" : Number(x).toFixed(digits); }
function more(total, shown, what) {
  return total > shown ? `<p class="more" data-more="${h(what)}">+${total - shown} more</p>` : "";
}
function verdictTag(v) { return v ? `<span class="verdict-${h(v)}">${h(v)}</span>` : ""; }

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  const token = sessionStorage.getItem("wb-token");
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { ...options, headers });
  if (res.status === 401) { showLogin("The server refused the token."); throw new Error("401"); }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : res.statusText);
  return body;
}

// -- login ------------------------------------------------------------------------------------
function showLogin(message = "") {
  $("#login").hidden = false;
  $("#login-error").textContent = message;
  $("#login-name").value = sessionStorage.getItem("wb-name") || "";
}
async function login(event) {
  event.preventDefault();
  sessionStorage.setItem("wb-name", $("#login-name").value.trim());
  sessionStorage.setItem("wb-token", $("#login-token").value.trim());
  try { await start(); } catch (e) { if (e.message !== "401") $("#login-error").textContent = e.message; }
}
async function start() {
  state.config = await api("/wb/api/config");
  if (!sessionStorage.getItem("wb-name")) { showLogin(""); return; }
  $("#login").hidden = true;
  $("#who").textContent = sessionStorage.getItem("wb-name");
  $("#mode").hidden = !state.config.read_only;
  $("#logout").hidden = false;
  await loadQueue();
  route();
}

// -- queue ------------------------------------------------------------------------------------
async function loadQueue() {
  const form = new FormData($("#filters"));
  const q = new URLSearchParams();
  for (const [k, v] of form.entries()) if (v !== "" && v !== "0") q.set(k, v);
  q.set("limit", SHOWN.queue);
  const data = await api(`/wb/api/rings?${q}`);
  $("#queue-count").textContent = `${data.total} open`;
  $("#queue").innerHTML = data.rings.map((r) => {
    const tags = [r.new ? '<span class="tag new">new</span>' : "",
      r.grown ? `<span class="tag grown">+${r.growth}</span>` : "",
      r.case_status !== "open" ? `<span class="tag ${h(r.case_status)}">${h(r.case_status)}</span>` : ""].join("");
    const shared = (r.shared || []).slice(0, 2).map(h).join("; ");
    const extra = (r.shared || []).length > 2 ? ` +${r.shared.length - 2} more` : "";
    const verdicts = r.fraud + r.legit + r.unsure ? ` · verdicts ${r.fraud}/${r.legit}/${r.unsure}` : "";
    return `<li data-ring="${h(r.ring_id)}" class="${r.ring_id === state.ringId ? "current" : ""}">
      <div><span class="rid">${h(r.ring_id)}</span>${tags}</div>
      <div class="muted">score ${num(r.score, 2)} · ${r.size} users${verdicts}</div>
      <div class="muted">${shared}${extra}</div></li>`;
  }).join("") || '<li class="muted">No ring matches.</li>';
  $("#queue-more").hidden = data.total <= data.rings.length;
  $("#queue-more").textContent = `+${data.total - data.rings.length} more (narrow the filters)`;
}

// -- ring view --------------------------------------------------------------------------------
function legend() {
  return `<div id="legend">
    <div><span class="sw" style="background:${COLORS.user}"></span>user, flagged</div>
    <div><span class="sw" style="background:${COLORS.candidate}"></span>user, above ring percentile</div>
    <div><span class="sw ring"></span>thick border: verdict fraud</div>
    <div><span class="sw sq" style="background:${COLORS.device}"></span>device</div>
    <div><span class="sw dia" style="background:${COLORS.IP}"></span>IP</div>
    <div><span class="sw tagshape" style="background:${COLORS.card}"></span>card (via orders)</div>
    <div><span class="sw hex" style="background:${COLORS.address}"></span>address (via orders)</div>
    <div class="muted">edge width: uses · click an edge: first/last use</div></div>`;
}

function statusButtons(ring) {
  if (state.config.read_only) return `<span class="tag ${h(ring.case_status)}">${h(ring.case_status)}</span>`;
  return state.config.case_statuses.map((s) => `<button type="button" data-status="${s}"
    class="${ring.case_status === s ? "active" : ""}">${s}</button>`).join(" ");
}
function verdictButtons(entity, id, current) {
  if (state.config.read_only) return verdictTag(current);
  return state.config.verdicts.map((v) => `<button type="button" class="v-${v} ${current === v ? "active" : ""}"
    data-verdict="${v}" data-entity="${entity}" data-id="${h(id)}">${v}</button>`).join(" ");
}
function reasonsList(reasons) {
  const list = reasons || [];
  const shown = list.slice(0, SHOWN.reasons).map((r) => `<li>${h(r)}</li>`).join("");
  return `<ul class="reasons">${shown}</ul>${more(list.length, SHOWN.reasons, "reasons")}`;
}

async function showRing(ringId) {
  state.ringId = ringId;
  document.querySelectorAll("#queue li").forEach((li) => li.classList.toggle("current", li.dataset.ring === ringId));
  const d = await api(`/wb/api/rings/${encodeURIComponent(ringId)}`);
  const r = d.ring;
  const kinds = Object.entries(d.shared_by_kind).map(([k, n]) => `<span class="kind ${h(k)}">${n} ${h(k)}${n === 1 ? "" : "s"}</span>`).join(" · ");
  const members = d.members.slice(0, SHOWN.members).map((m) => `<tr class="member" data-user="${h(m.user_id)}">
      <td>${h(m.user_id)}</td><td class="num">${num(m.score)}</td><td class="num">${num(m.pct, 1)}</td>
      <td>${m.flagged ? "flagged" : ""}</td><td>${reasonsList([...(m.evidence || []), ...(m.reasons || []).filter((r) => !r.startsWith("shares "))])}</td>
      <td>${verdictButtons("user", m.user_id, m.verdict)}${m.verdict_by ? `<div class="muted">${h(m.verdict_by)}, ${when(m.verdict_at)}</div>` : ""}</td></tr>`).join("");
  const entities = d.entities.slice(0, SHOWN.entities).map((e) => `<tr><td class="kind ${h(e.kind)}">${h(e.kind)}</td>
      <td><a href="#/entity/${encodeURIComponent(e.id)}">${h(e.id)}</a></td><td class="num">${e.members}</td>
      <td class="num">${num(e.score)}</td></tr>`).join("");
  $("#placeholder").hidden = true;
  $("#view").innerHTML = `
    <div id="ring-head"><h2>${h(r.ring_id)}</h2>
      <span>score <b>${num(r.score, 3)}</b> · ${r.size} users${r.prev_size !== null && r.prev_size !== undefined && r.prev_size !== r.size ? ` (was ${r.prev_size} at the run before)` : ""}</span>
      <span class="muted">active ${when(r.first_seen)} – ${when(r.last_seen)} · detected ${when(r.detected_at)}${r.closed_at ? " · dissolved " + when(r.closed_at) : ""}</span>
      <span>case: ${statusButtons(r)}</span></div>
    <p>Shared by two or more members: ${kinds}</p>
    <div class="graph-wrap"><div id="graph"></div>${legend()}</div>
    <div id="edge-info">Click a node or an edge for details.</div>
    <div class="cols"><div>
      <h3>Members</h3>
      <table id="members"><tr><th>user</th><th>score</th><th>pct</th><th></th><th>reasons</th><th>verdict</th></tr>${members}</table>
      ${more(d.members.length, SHOWN.members, "members")}
    </div><div>
      <h3>Shared entities</h3>
      <table id="entities"><tr><th>kind</th><th>id</th><th>members</th><th>score</th></tr>${entities}</table>
      ${more(d.entities.length, SHOWN.entities, "entities")}
      <div id="member"></div>
    </div></div>`;
  drawGraph(d);
}

function drawGraph(d) {
  const elements = [];
  for (const m of d.members) {
    elements.push({ data: { id: `u:${m.user_id}`, label: m.user_id, kind: "user", flagged: m.flagged ? 1 : 0,
      verdict: m.verdict || "", color: m.flagged ? COLORS.user : COLORS.candidate } });
  }
  for (const e of d.entities) {
    elements.push({ data: { id: `${e.kind}:${e.id}`, label: e.id, kind: e.kind, color: COLORS[e.kind] } });
  }
  for (const x of d.edges) {
    elements.push({ data: { id: `${x.user_id}|${x.kind}:${x.entity}`, source: `u:${x.user_id}`,
      target: `${x.kind}:${x.entity}`, kind: x.kind, uses: x.uses, first: x.first_use, last: x.last_use,
      width: Math.min(1 + Math.log2(x.uses || 1), 6), color: COLORS[x.kind] } });
  }
  if (state.cy) state.cy.destroy();
  state.cy = cytoscape({
    container: $("#graph"), elements, wheelSensitivity: 0.3,
    layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 9000, idealEdgeLength: 70, padding: 30 },
    style: [
      { selector: "node", style: { "background-color": "data(color)", label: "data(label)", "font-size": 9,
        "text-valign": "bottom", "text-margin-y": 3, width: 22, height: 22, color: "#374151" } },
      { selector: "node[kind = 'user']", style: { width: 30, height: 30 } },
      { selector: "node[verdict = 'fraud']", style: { "border-width": 4, "border-color": "#111" } },
      { selector: "node[verdict = 'legit']", style: { "border-width": 4, "border-color": "#16a34a" } },
      { selector: "node[verdict = 'unsure']", style: { "border-width": 3, "border-color": "#9ca3af", "border-style": "dashed" } },
      { selector: "node[kind != 'user']", style: { shape: (n) => SHAPES[n.data("kind")] } },
      { selector: "edge", style: { width: "data(width)", "line-color": "data(color)", opacity: 0.55, "curve-style": "bezier" } },
      { selector: ":selected", style: { "overlay-opacity": 0.15, "overlay-color": "#2563eb" } },
    ],
  });
  state.cy.on("tap", "edge", (ev) => {
    const e = ev.target.data();
    $("#edge-info").innerHTML = `${h(ev.target.source().data("label"))} → <span class="kind ${h(e.kind)}">${h(e.kind)}</span> ${h(ev.target.target().data("label"))}: first use ${when(e.first)}, last use ${when(e.last)}, ${e.uses} use${e.uses === 1 ? "" : "s"}`;
  });
  state.cy.on("tap", "node", (ev) => {
    const n = ev.target.data();
    if (n.kind === "user") showMember(n.label);
    else location.hash = `#/entity/${encodeURIComponent(n.label)}`;
  });
  window.wbGraph = state.cy; // for the browser test and the curious
}

async function showMember(userId) {
  const d = await api(`/wb/api/users/${encodeURIComponent(userId)}`);
  const u = d.user;
  const rows = d.timeline.slice(0, SHOWN.timeline).map((t) => t.type === "order"
    ? `<tr><td>${when(t.at)}</td><td>order <b>${h(t.order_id)}</b> ${num(t.amount, 2)} ${h(t.status)}${t.flagged ? " · flagged" : ""} ${verdictTag(t.verdict)}</td>
       <td><span class="kind device">${h(t.device)}</span> <span class="kind IP">${h(t.ip)}</span> <span class="kind card">${h(t.card)}</span> <span class="kind address">${h(t.address)}</span></td></tr>`
    : `<tr><td>${when(t.first_seen)} – ${when(t.last_seen)}</td><td>session on <span class="kind ${h(t.kind)}">${h(t.kind)} ${h(t.entity)}</span></td><td>${t.events ?? ""} events</td></tr>`).join("");
  const cut = (d.orders_total - d.orders.length) + (d.sessions_total - d.sessions.length) + Math.max(d.timeline.length - SHOWN.timeline, 0);
  const target = $("#member") || $("#view");
  target.innerHTML = `<h3>User ${h(u.user_id)}</h3>
    <p>score <b>${num(u.score)}</b> · percentile ${num(u.pct, 1)}${u.flagged ? " · flagged" : ""}${u.ring_id ? ` · ring <a href="#/ring/${encodeURIComponent(u.ring_id)}">${h(u.ring_id)}</a>` : ""}
    · created ${when(u.created_at)} ${h(u.country)}</p>
    <p>verdict: ${verdictButtons("user", u.user_id, u.verdict)} ${u.verdict_by ? `<span class="muted">${h(u.verdict_by)}, ${when(u.verdict_at)}${u.verdict_note ? ": " + h(u.verdict_note) : ""}</span>` : ""}</p>
    <h4>Why</h4>${reasonsList(u.reasons)}
    <h4>Timeline (${d.orders_total} orders, ${d.sessions_total} device/IP sessions)</h4>
    <table>${rows}</table>${cut > 0 ? `<p class="more">+${cut} more</p>` : ""}`;
}

async function showEntity(id) {
  const d = await api(`/wb/api/entities/${encodeURIComponent(id)}`);
  $("#placeholder").hidden = true;
  $("#view").innerHTML = `<h2><span class="kind ${h(d.kind)}">${h(d.kind)}</span> ${h(d.id)}</h2>
    <table><tr><th>user</th><th>score</th><th>flagged</th><th>ring</th><th>verdict</th><th>first use</th><th>last use</th></tr>
    ${d.users.map((u) => `<tr class="member" data-user="${h(u.user_id)}"><td>${h(u.user_id)}</td><td class="num">${num(u.score)}</td>
      <td>${u.flagged ? "yes" : ""}</td><td>${u.ring_id ? `<a href="#/ring/${encodeURIComponent(u.ring_id)}">${h(u.ring_id)}</a>` : ""}</td>
      <td>${verdictTag(u.verdict)}</td><td>${when(u.first_use)}</td><td>${when(u.last_use)}</td></tr>`).join("")}</table>
    ${d.more ? '<p class="more">+ more users (only the first 100 are listed)</p>' : ""}<div id="member"></div>`;
}

async function showAudit() {
  const d = await api("/wb/api/audit?limit=200");
  $("#placeholder").hidden = true;
  $("#view").innerHTML = `<h2>Audit trail</h2><table id="audit"><tr><th>when</th><th>who</th><th>what</th><th>decision</th><th>before</th><th>note</th></tr>
    ${d.entries.map((e) => `<tr><td>${when(e.at)}</td><td>${h(e.by)}</td><td>${h(e.entity)} ${e.entity === "FraudRing"
      ? `<a href="#/ring/${encodeURIComponent(e.id)}">${h(e.id)}</a>` : h(e.id)}</td><td>${verdictTag(e.verdict) || h(e.verdict)}</td>
      <td>${h(e.previous)}</td><td>${h(e.note)}</td></tr>`).join("") || '<tr><td colspan="6" class="muted">No decisions yet.</td></tr>'}</table>`;
}

// -- decisions (always confirmed) ---------------------------------------------------------------
function confirmDialog(title, text) {
  const dlg = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-note").value = "";
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok" ? $("#confirm-note").value : null), { once: true });
  });
}
async function decide(button) {
  const by = sessionStorage.getItem("wb-name");
  try {
    if (button.dataset.verdict) {
      const { entity, id, verdict } = button.dataset;
      const note = await confirmDialog(`Verdict: ${verdict}`, `Record '${verdict}' on ${entity} ${id} as ${by}? It is kept in the audit trail, and 'fraud'/'legit' become training labels.`);
      if (note === null) return;
      await api("/wb/api/verdicts", { method: "POST", body: JSON.stringify({ entity, id, verdict, by, note }) });
    } else {
      const status = button.dataset.status;
      const note = await confirmDialog(`Case status: ${status}`, `Set ring ${state.ringId} to '${status}' as ${by}?`);
      if (note === null) return;
      await api(`/wb/api/rings/${encodeURIComponent(state.ringId)}/status`, { method: "POST", body: JSON.stringify({ status, by, note }) });
    }
  } catch (e) { alert(`Not recorded: ${e.message}`); return; }
  await loadQueue();
  await route();
}

// -- search and routing -------------------------------------------------------------------------
async function doSearch(text) {
  const box = $("#search-results");
  if (!text.trim()) { box.hidden = true; return; }
  const d = await api(`/wb/api/search?q=${encodeURIComponent(text)}`);
  box.innerHTML = d.results.map((r) => {
    const href = r.kind === "user" ? `#/user/${encodeURIComponent(r.id)}` : r.kind === "order"
      ? (r.ring_id ? `#/ring/${encodeURIComponent(r.ring_id)}` : "#/") : `#/entity/${encodeURIComponent(r.id)}`;
    return `<a href="${href}"><span class="kind ${h(r.kind)}">${h(r.kind)}</span> ${h(r.id)} <span class="muted">${r.score !== null ? "score " + num(r.score) : ""} ${r.ring_id ? "· " + h(r.ring_id) : ""}</span></a>`;
  }).join("") + (d.more ? '<p class="more" style="padding:0 10px">+ more: type more of the id</p>' : "") || '<p class="muted" style="padding:0 10px">Nothing found.</p>';
  box.hidden = false;
}
async function route() {
  const [, what, ...rest] = location.hash.split("/");
  const id = decodeURIComponent(rest.join("/"));
  $("#search-results").hidden = true;
  try {
    if (what === "ring" && id) await showRing(id);
    else if (what === "user" && id) { $("#placeholder").hidden = true; $("#view").innerHTML = '<div id="member"></div>'; await showMember(id); }
    else if (what === "entity" && id) await showEntity(id);
    else if (what === "audit") await showAudit();
  } catch (e) { if (e.message !== "401") $("#view").innerHTML = `<p class="error">${h(e.message)}</p>`; }
}

document.addEventListener("click", (ev) => {
  const li = ev.target.closest("#queue li[data-ring]");
  if (li) { location.hash = `#/ring/${encodeURIComponent(li.dataset.ring)}`; return; }
  const btn = ev.target.closest("button[data-verdict], button[data-status]");
  if (btn) { ev.stopPropagation(); decide(btn); return; }
  const row = ev.target.closest("tr.member");
  if (row && !ev.target.closest("a")) { showMember(row.dataset.user); }
});
$("#filters").addEventListener("change", () => loadQueue());
$("#login-form").addEventListener("submit", login);
$("#logout").addEventListener("click", () => { sessionStorage.clear(); location.hash = "#/"; showLogin(""); });
$("#search-form").addEventListener("submit", (ev) => { ev.preventDefault(); doSearch($("#search").value); });
let searchTimer = null;
$("#search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => doSearch($("#search").value), 250); });
window.addEventListener("hashchange", route);
if (typeof cytoscape === "undefined") {
  document.body.innerHTML = "<h1>The workbench graph library is missing</h1><p>Run <code>make setup</code> (bundles Cytoscape.js into graphgnn/api/static/vendor).</p>";
} else {
  start().catch((e) => { if (e.message !== "401") showLogin(e.message); });
}
