// eccmgr dashboard: polls eccmgr's JSON views and redraws. No framework, no external file:
//   /api/health   every second: members, their state, counters, DuraVIP owners
//   /api/history  every 5 s: per-member samples of the last minutes, for the charts
//   /api/logs     every 2 s (unless paused): the last lines of the aggregated logs
// Text from the cluster (names, log lines) only ever goes into textContent.
"use strict";

const HEALTH_MS = 1000;
const HISTORY_MS = 5000;
const LOGS_MS = 2000;
const CHART_SPAN_MS = 5 * 60 * 1000;
const PALETTE = ["#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e",
                 "#0a3069", "#116329", "#953800", "#6e7781"];

const $ = (id) => document.getElementById(id);
let colors = {};  // member -> color, stable while the page lives

function colorOf(member) {
  if (!(member in colors)) colors[member] = PALETTE[Object.keys(colors).length % PALETTE.length];
  return colors[member];
}

async function getJson(path) {
  const response = await fetch(path, {cache: "no-store"});
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${path}: HTTP ${response.status}`);
  return body;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function age(ms) {
  if (ms === null || ms === undefined) return "never";
  return ms < 10000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

// --- members -----------------------------------------------------------------------------
// The config revision most members report (reports without one left out), or null when two
// revisions tie for most: then every member reporting one is marked. eccmgr does not know the
// repository's head, and a 12-hex revision says nothing of which one is newer.
function referenceRevision(members) {
  const counts = new Map();
  for (const m of members) {
    const rev = m.report && m.report.config_revision;
    if (rev) counts.set(rev, (counts.get(rev) || 0) + 1);
  }
  let best = null, bestCount = 0, tie = false;
  for (const [rev, n] of counts) {
    if (n > bestCount) { best = rev; bestCount = n; tie = false; }
    else if (n === bestCount) tie = true;
  }
  return tie ? null : best;
}

function renderHealth(health) {
  $("manager-name").textContent = health.manager;
  $("summary").textContent =
      `${health.members_alive}/${health.members_known} alive, view ${health.view_id}` +
      (health.mature ? ", stable" : ", changing") +
      ` for ${age(health.view_stable_ms)}`;
  const body = $("members").tBodies[0];
  body.textContent = "";
  const reference = referenceRevision(health.members);
  for (const m of health.members) {
    const r = m.report || {};
    const row = body.insertRow();
    row.className = "member " + (m.healthy ? "ok" : "down");
    row.dataset.member = m.member;
    row.dataset.healthy = m.healthy ? "true" : "false";
    cell(row, m.member, "member-name").style.borderLeft = `4px solid ${colorOf(m.member)}`;
    cell(row, m.bus_state, "bus");
    cell(row, m.healthy ? "yes" : "NO", "health");
    cell(row, r.state || "-");
    cell(row, m.report ? `${r.members_alive}/${r.members_known}` : "-", "num");
    cell(row, m.report ? r.received : "-", "num");
    cell(row, m.report ? r.delivered : "-", "num");
    cell(row, m.report ? r.failed : "-", "num");
    cell(row, m.report ? r.queue_size : "-", "num");
    const rev = r.config_revision || "";
    const lags = rev !== "" && rev !== reference;
    row.dataset.configLag = lags ? "true" : "false";
    cell(row, rev || "-", "config" + (lags ? " lag" : "")).title = !lags ? "" : reference
        ? `differs from ${reference}, which most members run` : "members disagree, no majority";
    cell(row, age(m.report_age_ms), "num");
  }
  renderDuravip(health.duravip || {}, health.duravip_conflicts || 0);
  updateNodeFilter(health.members.map((m) => m.member));
}

function renderDuravip(duravip, conflicts) {
  const addresses = Object.keys(duravip).sort();
  $("duravip").hidden = addresses.length === 0;
  $("duravip-empty").hidden = addresses.length > 0;
  const body = $("duravip").tBodies[0];
  body.textContent = "";
  for (const address of addresses) {
    const holders = duravip[address];
    const row = body.insertRow();
    if (holders.length > 1 && conflicts > 0) row.className = "conflict";
    cell(row, address);
    cell(row, holders.length ? holders.join(", ") : "unheld");
  }
}

function updateNodeFilter(members) {
  const select = $("log-node");
  const have = new Set(Array.from(select.options).map((o) => o.value));
  for (const m of members) {
    if (have.has(m)) continue;
    const option = document.createElement("option");
    option.value = option.textContent = m;
    select.appendChild(option);
  }
}

// --- charts ------------------------------------------------------------------------------
function drawChart(canvas, series, nowMs, unit) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, left = 44, bottom = 18, top = 8;
  ctx.clearRect(0, 0, w, h);
  let max = 0;
  for (const s of series) for (const p of s.points) if (p.v !== null) max = Math.max(max, p.v);
  max = max > 0 ? max * 1.1 : 1;
  const x = (t) => left + (w - left - 4) * (1 - (nowMs - t) / CHART_SPAN_MS);
  const y = (v) => top + (h - top - bottom) * (1 - v / max);
  ctx.strokeStyle = "#d0d7de";
  ctx.fillStyle = "#6e7781";
  ctx.font = "11px sans-serif";
  ctx.beginPath();
  ctx.moveTo(left, top);
  ctx.lineTo(left, h - bottom);
  ctx.lineTo(w - 4, h - bottom);
  ctx.stroke();
  ctx.fillText(max >= 10 ? Math.round(max) + unit : max.toFixed(1) + unit, 2, top + 8);
  ctx.fillText("0", 30, h - bottom);
  ctx.fillText("-5 min", left, h - 4);
  ctx.fillText("now", w - 26, h - 4);
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let pen = false;
    for (const p of s.points) {
      if (p.v === null || nowMs - p.t > CHART_SPAN_MS) {
        pen = false;  // a restart or a gap: the line breaks
        continue;
      }
      if (pen) ctx.lineTo(x(p.t), y(p.v)); else ctx.moveTo(x(p.t), y(p.v));
      pen = true;
    }
    ctx.stroke();
  }
}

function renderHistory(history) {
  const members = Object.keys(history.members).sort();
  const rate = [], queue = [];
  const legend = $("legend");
  legend.textContent = "";
  for (const m of members) {
    const points = history.members[m];
    rate.push({color: colorOf(m), points: points.map((p) => ({t: p.t, v: p.received_per_s}))});
    queue.push({color: colorOf(m), points: points.map((p) => ({t: p.t, v: p.queue}))});
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = colorOf(m);
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(m));
    legend.appendChild(item);
  }
  drawChart($("chart-rate"), rate, history.now_ms, "/s");
  drawChart($("chart-queue"), queue, history.now_ms, "");
}

// --- logs --------------------------------------------------------------------------------
let lastLogs = "";

function logsQuery() {
  const q = new URLSearchParams();
  if ($("log-node").value) q.set("node", $("log-node").value);
  if ($("log-log").value) q.set("log", $("log-log").value);
  q.set("lines", $("log-lines").value);
  return "/api/logs?" + q.toString();
}

function renderLogs(tail) {
  const text = JSON.stringify(tail.lines);
  if (text === lastLogs) return;
  lastLogs = text;
  const box = $("log-tail");
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  box.textContent = "";
  for (const l of tail.lines) {
    const line = document.createElement("div");
    line.className = "log-line " + l.log;
    const src = document.createElement("span");
    src.className = "src";
    src.textContent = `${l.node} ${l.log}`;
    line.appendChild(src);
    line.appendChild(document.createTextNode(l.text));
    box.appendChild(line);
  }
  if (atBottom) box.scrollTop = box.scrollHeight;
  $("log-status").textContent =
      `${tail.lines.length} lines` + (tail.truncated ? " (older lines left out)" : "");
}

// --- polling -----------------------------------------------------------------------------
function every(ms, fn) {
  let running = false;
  const tick = async () => {
    if (running) return;  // a slow answer is not queued behind itself
    running = true;
    try { await fn(); } finally { running = false; }
  };
  tick();
  return setInterval(tick, ms);
}

every(HEALTH_MS, async () => {
  try {
    renderHealth(await getJson("/api/health"));
    $("status").textContent = "";
  } catch (e) {
    $("status").textContent = "eccmgr is not answering: " + e.message;
    for (const row of $("members").tBodies[0].rows) {
      row.className = "member down";
      row.dataset.healthy = "unknown";
    }
  }
});
every(HISTORY_MS, async () => {
  try { renderHistory(await getJson("/api/history")); } catch (e) { /* the status line says */ }
});
every(LOGS_MS, async () => {
  if ($("log-pause").checked) return;
  try {
    renderLogs(await getJson(logsQuery()));
  } catch (e) {
    $("log-status").textContent = e.message;
  }
});
for (const id of ["log-node", "log-log", "log-lines"]) {
  $(id).addEventListener("change", async () => {
    lastLogs = "";
    try { renderLogs(await getJson(logsQuery())); } catch (e) { $("log-status").textContent = e.message; }
  });
}
