"use strict";
// The Aegis dashboard: polls /status and /health, turns their counters into rates, keeps the
// last WINDOW_MS of them in this page and draws them in SVG. Served as a file of its own
// (not inline) so that the page works under the admin API's strict Content-Security-Policy.
(() => {
const POLL_MS = 1000;
const WINDOW_MS = 5 * 60 * 1000;
// Lines per chart before the rest are summed as "others": 20 backends in one chart is a tangle.
const TOP = 6;
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
const OTHERS = "#b0b0b0";
const SVG = "http://www.w3.org/2000/svg";

// series id -> [[time ms, value], ...] oldest first, at most WINDOW_MS old
const series = new Map();
// counters of the previous poll, by the same ids, with the poll's time
let previous = null;
// when the first rate was recorded: until the window is full the charts span what there is (at least a minute)
let firstAt = null;
let renders = 0;

const $ = id => document.getElementById(id);
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}
function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
function header(table, names) {
  const head = table.createTHead().insertRow();
  for (const h of names) head.appendChild(el("th", h));
}
const stateClass = s => s === "ok" || s === "closed" || s === "up" ? "ok" : s === "down" || s === "open" ? "bad" : "warn";
function badge(row, text) { const td = row.insertCell(); td.appendChild(el("span", text, "badge " + stateClass(text))); return td; }

function fmtRate(v) {
  if (v === undefined || v === null || !isFinite(v)) return "-";
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2).replace(/\.?0+$/, "") || "0";
}
function fmtBytes(v) {
  if (v === undefined || v === null || !isFinite(v)) return "-";
  const units = ["B/s", "KiB/s", "MiB/s", "GiB/s"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)) + " " + units[i];
}

// One address, or a list of them with a run of ports on one host written as host:first-last.
function addresses(a) {
  if (!a) return "-";
  if (!Array.isArray(a)) return a;
  const out = [];
  let host = null, first = 0, prev = 0;
  const flush = () => { if (host !== null) out.push(host + ":" + (first === prev ? first : first + "-" + prev)); };
  for (const x of a) {
    const i = x.lastIndexOf(":"), h = x.slice(0, i), p = Number(x.slice(i + 1));
    if (h === host && p === prev + 1) { prev = p; continue; }
    flush(); host = h; first = p; prev = p;
  }
  flush();
  return out.join(", ");
}
// The pools /health judges a service by: a UDP-only service's TCP pool serves nobody; each TLS
// route (SPEC §10) is a pool of its own, tls:<first server name>, its names in the cell's title.
function pools(s) {
  const out = [];
  const tcp = s.listeners && s.listeners.tcp, udp = s.listeners && s.listeners.udp;
  if (tcp || !udp) for (const b of s.backends || []) out.push(["tcp", b]);
  if (udp) for (const b of s.udp_backends || []) out.push(["udp", b]);
  for (const route of s.tls_routes || []) {
    for (const b of route.backends || []) out.push([route.pool, b, (route.server_names || []).join(", ")]);
  }
  return out;
}
const sum = o => Object.values(o || {}).reduce((a, b) => a + (Number(b) || 0), 0);
const backendId = (s, pool, b) => "b|" + s.name + "|" + pool + "|" + b.address;

// ---- samples ----

// The counters of one poll, by series id (every one only grows while the process runs).
function counters(services) {
  const c = new Map();
  for (const s of services) {
    const id = "s|" + s.name;
    c.set(id + "|conn", (s.accepted_connections ?? s.total_connections ?? 0) + (s.udp_sessions_created || 0));
    c.set(id + "|in", (s.bytes_from_clients || 0) + (s.udp_bytes_from_clients || 0));
    c.set(id + "|out", (s.bytes_to_clients || 0) + (s.udp_bytes_to_clients || 0));
    for (const [reason, n] of Object.entries(s.rejected || {})) c.set(id + "|rej|" + reason, n);
    // UDP datagrams dropped because no session could be opened count as rejections; those over
    // a session's packet rate or unsent are drops, not refused clients
    for (const reason of ["max_sessions", "no_backend", "rate_limited", "draining", "bad_proxy_header", "local_error"]) {
      const n = s.udp_dropped && s.udp_dropped[reason];
      if (n !== undefined) c.set(id + "|rej|udp_" + reason, n);
    }
    for (const [pool, b] of pools(s)) {
      const bid = backendId(s, pool, b);
      c.set(bid + "|conn", b.total_connections || 0);
      c.set(bid + "|bytes", (b.bytes_from_clients || 0) + (b.bytes_to_clients || 0));
    }
  }
  return c;
}

function record(now, c) {
  if (previous) {
    const dt = (now - previous.at) / 1000;
    for (const [id, v] of c) {
      const before = previous.values.get(id);
      // new series (a backend added) or a counter that went back (a restart): no rate this time
      if (before === undefined || v < before || dt <= 0) continue;
      let points = series.get(id);
      if (!points) { points = []; series.set(id, points); }
      points.push([now, (v - before) / dt]);
      if (firstAt === null) firstAt = now;
    }
  }
  for (const [id, points] of series) {
    while (points.length && points[0][0] < now - WINDOW_MS) points.shift();
    if (points.length === 0) series.delete(id);
  }
  previous = { at: now, values: c };
}
const latest = id => { const p = series.get(id); return p && p.length ? p[p.length - 1][1] : undefined; };
// Sum of several series, point by point (all are sampled at the same poll times).
function added(ids) {
  const byTime = new Map();
  for (const id of ids) for (const [t, v] of series.get(id) || []) byTime.set(t, (byTime.get(t) || 0) + v);
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]);
}
const idsWith = prefix => [...series.keys()].filter(id => id.startsWith(prefix));
const mean = points => points.length ? points.reduce((a, p) => a + p[1], 0) / points.length : 0;

// ---- drawing ----

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
// The time the x axis spans: the window, or while it fills what there is, at least a minute.
const span = now => Math.min(WINDOW_MS, Math.max(60000, firstAt === null ? 0 : now - firstAt));
function ago(ms) {
  const s = Math.round(ms / 1000);
  return s === 0 ? "now" : "-" + (s >= 60 ? Math.floor(s / 60) + "m" + (s % 60 ? s % 60 + "s" : "") : s + "s");
}
function points(data, now, x0, w, y0, h, max) {
  const width = span(now);
  return data.filter(([t]) => now - t <= width).map(([t, v]) => {
    const x = x0 + w * (1 - (now - t) / width);
    const y = y0 + h - h * Math.min(v, max) / max;
    return x.toFixed(1) + "," + y.toFixed(1);
  }).join(" ");
}

/**
 * A line chart of the window: lines = [{label, color, data: [[t, v]...]}], fmt formats a value.
 * The chart says how many points it drew in data-points (the test and a curious person read it).
 */
function chart(title, lines, fmt, now) {
  const box = el("figure", undefined, "chart");
  box.appendChild(el("h3", title));
  const W = 420, H = 150, L = 58, R = 8, T = 8, B = 20;
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  const max = niceMax(Math.max(0, ...lines.flatMap(l => l.data.map(p => p[1]))));
  for (const f of [0, 0.5, 1]) {
    const y = T + (H - T - B) * (1 - f);
    s.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y, class: "grid" }));
    const label = svg("text", { x: L - 4, y: y + 3, "text-anchor": "end", class: "axis" });
    label.textContent = fmt(max * f);
    s.appendChild(label);
  }
  const width = span(now);
  const step = [10000, 15000, 30000, 60000].find(d => width / d <= 6) || 60000;
  for (let back = Math.floor(width / step) * step; back >= 0; back -= step) {
    const x = L + (W - L - R) * (1 - back / width);
    const t = svg("text", { x, y: H - 5, "text-anchor": back === width ? "start" : back === 0 ? "end" : "middle", class: "axis" });
    t.textContent = ago(back);
    s.appendChild(t);
  }
  let drawn = 0;
  for (const line of lines) {
    if (line.data.length === 0) continue;
    const p = svg("polyline", { points: points(line.data, now, L, W - L - R, T, H - T - B, max), class: "line", stroke: line.color });
    const tip = svg("title");
    tip.textContent = line.label;
    p.appendChild(tip);
    s.appendChild(p);
    drawn = Math.max(drawn, line.data.length);
  }
  if (drawn === 0) {
    const t = svg("text", { x: (L + W - R) / 2, y: (T + H - B) / 2, "text-anchor": "middle", class: "empty" });
    t.textContent = "collecting…";
    s.appendChild(t);
  }
  box.dataset.points = drawn;
  box.appendChild(s);
  const legend = el("ul", undefined, "legend");
  for (const line of lines) {
    const li = el("li");
    const sw = svg("svg", { width: 14, height: 8 });
    sw.appendChild(svg("rect", { width: 14, height: 8, fill: line.color }));
    li.appendChild(sw);
    li.appendChild(document.createTextNode(line.label));
    li.appendChild(el("span", fmt(line.data.length ? line.data[line.data.length - 1][1] : undefined), "value"));
    legend.appendChild(li);
  }
  box.appendChild(legend);
  return box;
}

/** The TOP busiest of [{label, ids}] (by mean over the window) as lines, the rest summed as "others". */
function topLines(items) {
  const scored = items.map(i => ({ label: i.label, data: added(i.ids) }))
    .map(l => ({ ...l, score: mean(l.data) }))
    .sort((a, b) => b.score - a.score || a.label.localeCompare(b.label));
  const lines = scored.slice(0, TOP).map((l, i) => ({ label: l.label, data: l.data, color: PALETTE[i % PALETTE.length] }));
  if (scored.length > TOP) {
    const rest = items.filter(i => !lines.some(l => l.label === i.label)).flatMap(i => i.ids);
    lines.push({ label: (scored.length - TOP) + " others", data: added(rest), color: OTHERS });
  }
  return lines;
}

function sparkline(data, now) {
  const W = 120, H = 22;
  const s = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "connections/s, last minutes" });
  const max = niceMax(Math.max(0, ...data.map(p => p[1])));
  s.appendChild(svg("line", { x1: 0, x2: W, y1: H - 1, y2: H - 1, class: "grid", stroke: "#e4e4e4" }));
  if (data.length) {
    s.appendChild(svg("polyline", { points: points(data, now, 0, W, 1, H - 2, max), fill: "none", stroke: PALETTE[0], "stroke-width": 1.2 }));
  }
  return s;
}

// ---- page ----

// Down (failing its checks) says more than draining: a drained service's dead backend stays down.
function backendState(s, b) {
  if (!b.healthy) return "down";
  return s.draining ? "draining" : "up";
}
function backendTable(s, now) {
  const table = el("table", undefined, "backends");
  header(table, ["pool", "backend", "state", "circuit", "weight", "active", "total", "conn/s", "bytes/s", "failures", "conn/s history"]);
  const body = table.createTBody();
  const rows = pools(s);
  for (const [pool, b, names] of rows) {
    const r = body.insertRow();
    const state = backendState(s, b);
    r.dataset.backend = b.address;
    r.dataset.pool = pool;
    r.dataset.state = state;
    r.dataset.circuit = b.circuit;
    if (!b.healthy || b.circuit === "open") r.className = "down";
    const p = cell(r, pool);
    if (names) p.title = names;
    cell(r, b.address, "l");
    badge(r, state);
    badge(r, b.circuit);
    cell(r, b.weight);
    cell(r, b.active_connections);
    cell(r, b.total_connections);
    const id = backendId(s, pool, b);
    cell(r, fmtRate(latest(id + "|conn")));
    cell(r, pool === "udp" ? "-" : fmtBytes(latest(id + "|bytes")));
    cell(r, b.failures, b.failures > 0 ? "warn" : "");
    r.insertCell().className = "spark";
    r.cells[r.cells.length - 1].appendChild(sparkline(series.get(id + "|conn") || [], now));
  }
  if (rows.length === 0) cell(body.insertRow(), "no backend");
  return table;
}
function serviceSection(s, health, now) {
  const section = el("section", undefined, "service");
  section.id = "service-" + s.name;
  section.dataset.service = s.name;
  const h = el("h2", s.name + " ");
  const verdict = health ? health.status : "unknown";
  h.appendChild(el("span", verdict + (s.draining ? ", draining" : ""), s.draining ? "warn" : stateClass(verdict)));
  section.appendChild(h);
  const facts = el("div", undefined, "facts muted");
  const all = pools(s), up = all.filter(([, b]) => b.healthy && b.circuit !== "open").length;
  const sid = "s|" + s.name;
  for (const text of ["tcp " + addresses(s.listeners && s.listeners.tcp),
      "udp " + addresses(s.listeners && s.listeners.udp), s.algorithm,
      s.active_connections + " active", s.total_connections + " total",
      fmtRate(latest(sid + "|conn")) + " conn/s", s.udp_sessions + " UDP sessions", up + "/" + all.length + " backends up"]) {
    facts.appendChild(el("span", text));
  }
  section.appendChild(facts);
  const charts = el("div", undefined, "charts");
  charts.appendChild(chart("connections/s by backend", topLines(all.map(([pool, b]) => ({
    label: (pool === "udp" ? "udp " : "") + b.address, ids: [backendId(s, pool, b) + "|conn"] }))), fmtRate, now));
  charts.appendChild(chart("bytes/s", [
    { label: "from clients", data: series.get(sid + "|in") || [], color: PALETTE[0] },
    { label: "to clients", data: series.get(sid + "|out") || [], color: PALETTE[1] }], fmtBytes, now));
  const reasons = idsWith(sid + "|rej|").map(id => id.slice((sid + "|rej|").length))
    .filter(r => (series.get(sid + "|rej|" + r) || []).some(p => p[1] > 0));
  const rejections = reasons.length ? reasons.map((r, i) => ({ label: r, data: series.get(sid + "|rej|" + r), color: PALETTE[(i + 3) % PALETTE.length] }))
    : [{ label: "none", data: added(idsWith(sid + "|rej|")), color: PALETTE[2] }];
  charts.appendChild(chart("rejections/s by reason", rejections, fmtRate, now));
  section.appendChild(charts);
  section.appendChild(backendTable(s, now));
  return section;
}
// Three charts, one line per service.
function overview(services, now) {
  const box = $("overview-charts");
  box.innerHTML = "";
  const per = (suffixes) => topLines(services.map(s => ({ label: s.name, ids: suffixes.map(x => "s|" + s.name + x) })));
  box.appendChild(chart("connections/s", per(["|conn"]), fmtRate, now));
  box.appendChild(chart("bytes/s (both directions)", per(["|in", "|out"]), fmtBytes, now));
  box.appendChild(chart("rejections/s", topLines(services.map(s => ({ label: s.name, ids: idsWith("s|" + s.name + "|rej|") }))), fmtRate, now));
}
// With several services, one line each above their sections, linking to them.
function summary(services, health) {
  const table = $("summary");
  table.innerHTML = "";
  table.hidden = services.length < 2;
  if (table.hidden) return;
  header(table, ["service", "status", "tcp", "udp", "active", "conn/s", "bytes/s", "rejections/s", "UDP sessions", "backends up"]);
  const body = table.createTBody();
  for (const s of services) {
    const r = body.insertRow();
    const a = el("a", s.name); a.href = "#service-" + s.name;
    r.insertCell().appendChild(a);
    const verdict = health[s.name] ? health[s.name].status : "unknown";
    cell(r, verdict + (s.draining ? ", draining" : ""), s.draining ? "warn" : stateClass(verdict));
    cell(r, addresses(s.listeners && s.listeners.tcp), "l");
    cell(r, addresses(s.listeners && s.listeners.udp), "l");
    cell(r, s.active_connections);
    const sid = "s|" + s.name;
    cell(r, fmtRate(latest(sid + "|conn")));
    cell(r, fmtBytes((latest(sid + "|in") || 0) + (latest(sid + "|out") || 0)));
    cell(r, fmtRate(idsWith(sid + "|rej|").reduce((a, id) => a + (latest(id) || 0), 0)));
    cell(r, s.udp_sessions);
    const all = pools(s), up = all.filter(([, b]) => b.healthy && b.circuit !== "open").length;
    cell(r, up + "/" + all.length, up < all.length ? "warn" : "");
  }
}
function totals(services) {
  let conn = 0, bytes = 0, rej = 0, any = false;
  for (const s of services) {
    const sid = "s|" + s.name, c = latest(sid + "|conn");
    if (c === undefined) continue;
    any = true;
    conn += c;
    bytes += (latest(sid + "|in") || 0) + (latest(sid + "|out") || 0);
    rej += idsWith(sid + "|rej|").reduce((a, id) => a + (latest(id) || 0), 0);
  }
  $("rate").textContent = any ? fmtRate(conn) : "-";
  $("bytes").textContent = any ? fmtBytes(bytes) : "-";
  $("rejections").textContent = any ? fmtRate(rej) : "-";
}

function render(status, health, now) {
  // An instance from before several services (SPEC §9) has its one service at the top level.
  const services = status.services || [Object.assign({ name: "default" }, status)];
  const perService = health.services || { [services[0].name]: health };
  record(now, counters(services));
  $("status").textContent = health.status + (status.draining ? ", draining" : "");
  $("status").className = stateClass(health.status);
  $("meta").textContent = "version " + status.version + " · up " + status.uptime_seconds + " s · " + status.config_file;
  $("count").textContent = services.length;
  $("active").textContent = status.active_connections;
  $("total").textContent = status.total_connections;
  $("udp").textContent = status.udp_sessions;
  $("gen").textContent = status.generation;
  totals(services);
  overview(services, now);
  summary(services, perService);
  const box = $("services");
  box.innerHTML = "";
  for (const s of services) box.appendChild(serviceSection(s, perService[s.name], now));
  renders++;
  // For whoever watches the page (the browser test): it drew, how often, and from how many polls.
  document.body.dataset.renders = renders;
  document.body.dataset.samples = Math.max(0, ...[...series.values()].map(p => p.length));
}

async function poll() {
  let status, health;
  try {
    [status, health] = await Promise.all([
      fetch("/status", { cache: "no-store" }).then(r => r.json()),
      fetch("/health", { cache: "no-store" }).then(r => r.json())]);
  } catch (e) {
    $("status").textContent = "unreachable";
    $("status").className = "bad";
    setTimeout(poll, POLL_MS);
    return;
  }
  try {
    render(status, health, Date.now());
    delete document.body.dataset.error;
  } catch (e) {
    // A bug of this page, not an unreachable proxy: say so, and let the console have it.
    document.body.dataset.error = String(e);
    $("status").textContent = "page error: " + e;
    $("status").className = "bad";
    throw e;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

$("window").textContent = WINDOW_MS / 60000 + " minutes";
$("every").textContent = POLL_MS === 1000 ? "second" : POLL_MS / 1000 + " s";
poll();
})();
