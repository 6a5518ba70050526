// GET /: the status page, self-contained (no external scripts, styles or fonts). It holds no
// data itself: its script polls /status every few seconds and draws round progress, an
// accuracy/loss chart and the device table. A bearer token, when the server wants one, is
// read from the URL fragment (#token=...), which browsers never send to the server.
#include "status_render.hpp"

namespace edgefl::server {

namespace {

constexpr std::string_view kPage = R"html(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>edgefl status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .5em}
.bar{background:#ddd;height:10px;border-radius:5px;overflow:hidden;max-width:40em}
.bar div{background:#2a7;height:100%}
table{border-collapse:collapse;margin-top:1em}
th,td{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left;font-variant-numeric:tabular-nums}
.off{color:#999}
svg{background:#fff;border:1px solid #ddd;margin-top:1em}
#error{color:#b00}
</style></head><body>
<h1>edgefl <span id="model"></span></h1>
<p>Round <span id="round">0</span> of <span id="rounds">?</span>
 &middot; version <span id="version">0</span>
 &middot; <span id="deadline"></span>
 &middot; devices connected <span id="connected">0</span>, training <span id="training">0</span>,
 eligible <span id="eligible">0</span>
 <span id="error"></span></p>
<div class="bar"><div id="progress" style="width:0%"></div></div>
<svg id="chart" width="640" height="200" viewBox="0 0 640 200" role="img" aria-label="accuracy and loss per round">
<polyline id="accuracy" fill="none" stroke="#2a7" stroke-width="2" points=""/>
<polyline id="loss" fill="none" stroke="#c52" stroke-width="2" points=""/>
<text x="8" y="16" fill="#2a7">test accuracy (0-1)</text><text x="8" y="32" fill="#c52">train loss (scaled to its max)</text>
</svg>
<table><thead><tr><th>device</th><th>arch</th><th>backend</th><th>memory budget</th><th>micro-batch</th>
<th>last seen</th><th>eligibility</th><th>rounds</th><th>last loss</th><th>last batch</th><th>refusals</th></tr></thead>
<tbody id="devices"></tbody></table>
<script>
"use strict";
const token = new URLSearchParams(location.hash.slice(1)).get("token");
const $ = id => document.getElementById(id);
function cell(row, text) { row.insertCell().textContent = text; }
function mib(bytes) { return bytes ? (bytes / 1048576).toFixed(1) + " MiB" : "-"; }
function line(points, key, scale) {
  const n = Math.max(points.length - 1, 1);
  return points.filter(p => p[key] !== undefined && p[key] >= 0)
    .map(p => (10 + 620 * (points.indexOf(p)) / n).toFixed(1) + "," + (190 - 150 * p[key] / scale).toFixed(1)).join(" ");
}
function draw(s) {
  $("model").textContent = s.settings.model + " · " + s.settings.strategy;
  $("round").textContent = s.round.rounds_closed;
  $("rounds").textContent = s.settings.rounds;
  $("version").textContent = s.round.version;
  $("deadline").textContent = s.round.finished ? "finished" :
    s.round.deadline_in_s !== undefined ? "round closes within " + s.round.deadline_in_s.toFixed(0) + " s" : "waiting";
  $("connected").textContent = s.devices_connected;
  $("training").textContent = s.devices_training;
  $("eligible").textContent = s.devices_eligible;
  $("progress").style.width = (100 * s.round.rounds_closed / s.settings.rounds).toFixed(1) + "%";
  const points = s.recent_rounds;
  const maxLoss = Math.max(1e-9, ...points.map(p => p.train_loss));
  $("accuracy").setAttribute("points", line(points, "test_accuracy", 1));
  $("loss").setAttribute("points", line(points, "train_loss", maxLoss));
  const body = $("devices");
  body.replaceChildren();
  for (const d of s.devices.rows) {
    const row = body.insertRow();
    row.className = d.connected ? "device" : "device off";
    cell(row, d.id); cell(row, d.arch); cell(row, d.backend || "-");
    cell(row, mib(d.memory_budget_bytes)); cell(row, d.max_micro_batch || "-");
    cell(row, d.last_seen_s.toFixed(1) + " s ago");
    cell(row, d.eligible ? "eligible" : "ineligible: " + d.ineligible);
    cell(row, d.rounds_taken_part);
    cell(row, d.last_loss !== undefined ? d.last_loss.toFixed(4) : "-");
    cell(row, d.last_batch !== undefined ? d.last_batch : "-");
    cell(row, Object.entries(d.refusals).map(([k, v]) => k + " " + v).join(", ") || "-");
  }
}
async function refresh() {
  try {
    const reply = await fetch("status?per_page=1000", token ? {headers: {Authorization: "Bearer " + token}} : {});
    if (!reply.ok) throw new Error("status " + reply.status);
    draw(await reply.json());
    $("error").textContent = "";
  } catch (e) {
    $("error").textContent = "(" + e.message + ")";
  }
}
refresh();
setInterval(refresh, 3000);
</script></body></html>
)html";

}  // namespace

std::string_view status_page_html() {
  return kPage;
}

}  // namespace edgefl::server
