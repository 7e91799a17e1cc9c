// The web console of `garcon server` in headless Chromium (puppeteer-core):
// a real server on a free loopback port, executions made by the example
// flow programs (completed, failed, running, retried), and what a person
// sees: rows, counts and pages, the DAG's nodes and their states, timeline
// bars per attempt, events, and a run terminated through the UI. A second
// server with --credentials refuses the unsigned console and serves the
// signed one. Screenshots go to $GARCON_SCREENSHOTS.
//
//   GARCON_BIN=build/tools/garcon/garcon GARCON_EXAMPLES=build/examples \
//     node tests/console/console.test.mjs
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const GARCON = process.env.GARCON_BIN;
const EXAMPLES = process.env.GARCON_EXAMPLES;
const SHOTS = process.env.GARCON_SCREENSHOTS || path.join(os.tmpdir(), "garcon-console-screenshots");
const CHROMIUM = process.env.CHROMIUM || ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));
// Open runs nobody decides, beside the example runs: the console must stay
// fast on a domain of 10,000 runs (pages of 100, never everything).
const BULK = Number(process.env.GARCON_CONSOLE_BULK || 10000);
const DOMAIN = "dev";

function fail(message) {
  console.error("console test: " + message);
  process.exit(1);
}
if (!GARCON || !EXAMPLES) fail("GARCON_BIN and GARCON_EXAMPLES must name the built programs");
if (!CHROMIUM) fail("no Chromium found: scripts/setup.sh installs Debian's chromium package");
let puppeteer;
try {
  puppeteer = (await import("puppeteer-core")).default;
} catch (e) {
  fail(`puppeteer-core is missing: run 'npm ci' in ${here} (scripts/setup.sh does)`);
}
fs.mkdirSync(SHOTS, { recursive: true });

const children = [];
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

// `garcon server` on a free port; resolves to {proc, endpoint}.
function startServer(...args) {
  const proc = spawn(GARCON, ["-q", "server", "--port", "0", "--poll-timeout", "5", "--memory", ...args],
    { stdio: ["ignore", "pipe", "pipe"] });
  children.push(proc);
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("the server did not start: " + stderr)), 20000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on [^:\s]+:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, endpoint: `http://127.0.0.1:${m[1]}` });
      }
    });
    proc.on("exit", (code) => reject(new Error(`the server exited (${code}): ${stderr}`)));
  });
}

function example(name) {
  return path.join(EXAMPLES, name);
}
function runFlow(name, args, env, expectCode) {
  const r = spawnSync(example(name), ["run", ...args], { encoding: "utf8", timeout: 60000,
    env: Object.assign({}, process.env, env || {}) });
  assert.equal(r.status, expectCode, `${name} ${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return r;
}

// A plain SWF call from the test (no signature: the first server checks none).
async function swf(endpoint, op, body) {
  const r = await fetch(endpoint + "/", { method: "POST", body: JSON.stringify(body),
    headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService." + op } });
  const json = await r.json();
  if (!r.ok) throw new Error(`${op}: ${JSON.stringify(json)}`);
  return json;
}
async function waitFor(what, fn, timeoutMs = 30000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) fail("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check"],
});
const problems = [];
async function newPage(endpoint) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1360, height: 900 });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => {
    // Refused SWF calls are logged by Chromium as failed resources; those
    // are expected in the credentials test. Anything else is a problem.
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push("console: " + m.text());
  });
  page.on("request", (r) => {
    // data: URLs are Chromium's own (a date input's icon), not the network.
    if (!r.url().startsWith(endpoint) && !r.url().startsWith("data:")) problems.push("request outside the origin: " + r.url());
  });
  return page;
}
// Waits for the current route's render to finish (body[data-loaded] changes).
async function settled(page, before) {
  await page.waitForFunction((b) => document.body.dataset.loaded && document.body.dataset.loaded !== b, { timeout: 15000 }, before || "");
}
async function navigate(page, hash) {
  const before = await page.evaluate(() => document.body.dataset.loaded || "");
  await page.evaluate((h) => { location.hash = h; }, hash);
  await settled(page, before);
}
const texts = (page, selector) => page.$$eval(selector, (els) => els.map((e) => e.textContent.trim()));
const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, name + ".png"), fullPage: true });

const started = Date.now();
let step = "";
const check = (name) => { step = name; console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${name}`); };

try {
  // ---------------------------------------------------------------- without credentials
  check("server and executions");
  const { proc: server, endpoint } = await startServer();
  runFlow("country_flow", ["--endpoint", endpoint, "--workflow-id", "country-ok", "--input", '{"failures": {"2": 2}}'], {}, 0);
  runFlow("country_flow", ["--endpoint", endpoint, "--workflow-id", "country-failed", "--input", '{"failures": {"3": 9}}'], {}, 1);
  runFlow("order_flow", ["--endpoint", endpoint, "--workflow-id", "order-done", "--input", '{"inventory_failures": 1}',
    "--signal", 'approved={"approver": "ana"}'], {}, 0);
  // A run left waiting for its approval, decider and workers alive.
  const orderOpen = spawn(example("order_flow"), ["run", "--endpoint", endpoint, "--workflow-id", "order-open"], { stdio: "ignore" });
  children.push(orderOpen);
  const orderOpenExit = new Promise((resolve) => orderOpen.on("exit", (code) => resolve(code)));
  await waitFor("order-open's reserve to complete", async () => {
    const open = await swf(endpoint, "ListOpenWorkflowExecutions", { domain: DOMAIN, startTimeFilter: { oldestDate: 0 },
      executionFilter: { workflowId: "order-open" } });
    if (!open.executionInfos.length) return false;
    const h = await swf(endpoint, "GetWorkflowExecutionHistory", { domain: DOMAIN, execution: open.executionInfos[0].execution });
    return h.events.some((e) => e.eventType === "ActivityTaskCompleted");
  });
  // Many open runs nobody decides, to page through (and a decision backlog).
  await swf(endpoint, "RegisterWorkflowType", { domain: DOMAIN, name: "bulk_flow", version: "1",
    defaultTaskList: { name: "bulk_flow@1" }, defaultChildPolicy: "TERMINATE",
    defaultExecutionStartToCloseTimeout: "86400", defaultTaskStartToCloseTimeout: "60" });
  const t0 = Date.now();
  for (let i = 0; i < BULK; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, BULK - i) }, (_, k) => swf(endpoint, "StartWorkflowExecution",
      { domain: DOMAIN, workflowId: `bulk-${String(i + k).padStart(5, "0")}`, workflowType: { name: "bulk_flow", version: "1" }, input: "{}" })));
  }
  console.log(`  started ${BULK} bulk runs in ${Date.now() - t0} ms`);

  check("headers: content types, ETag, CSP, redirect");
  const index = await fetch(endpoint + "/console");
  assert.equal(index.status, 200);
  assert.match(index.headers.get("content-type"), /^text\/html/);
  const csp = index.headers.get("content-security-policy");
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  assert.doesNotMatch(csp, /https?:|\*/);
  const etag = index.headers.get("etag");
  assert.match(etag, /^"[0-9a-f]{20}"$/);
  assert.equal(index.headers.get("cache-control"), "no-cache");
  const html = await index.text();
  assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, "the page names no remote origin");
  assert.equal((await fetch(endpoint + "/console", { headers: { "if-none-match": etag } })).status, 304);
  const js = await fetch(endpoint + "/console/console.js");
  assert.match(js.headers.get("content-type"), /^text\/javascript/);
  assert.match((await fetch(endpoint + "/console/console.css")).headers.get("content-type"), /^text\/css/);
  assert.equal((await fetch(endpoint + "/console/nope.js")).status, 404);
  const redirect = await fetch(endpoint + "/", { redirect: "manual" });
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get("location"), "/console");

  check("executions: open tab, counts, paging");
  const page = await newPage(endpoint);
  const loadStart = Date.now();
  await page.goto(endpoint + "/");  // redirected to /console
  await settled(page, "");
  const loadMs = Date.now() - loadStart;
  console.log(`  first page of ${BULK + 1} open runs shown in ${loadMs} ms`);
  // About 0.4 s on a loaded 2-core machine: the bound only catches a console
  // that reads every run.
  assert.ok(loadMs < 5000, `the first page of ${BULK + 1} runs took ${loadMs} ms`);
  assert.ok(page.url().endsWith("/console"), page.url());
  assert.equal(await page.$eval('[data-count="open"]', (e) => e.textContent), (BULK + 1).toLocaleString("en-US"));
  // Closed: the two country runs, the order and its child run (packing_flow).
  assert.equal(await page.$eval('[data-count="closed"]', (e) => e.textContent), "4");
  const firstPage = await page.$$eval("table.executions tbody tr", (rows) => rows.map((r) => r.dataset.workflowId));
  assert.equal(firstPage.length, 100, "a page holds 100 runs");
  assert.ok(firstPage.every((id) => id.startsWith("bulk-") || id === "order-open"));
  await shot(page, "executions-open");
  let before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click("#next-page");
  await settled(page, before);
  const secondPage = await page.$$eval("table.executions tbody tr", (rows) => rows.map((r) => r.dataset.workflowId));
  assert.equal(secondPage.length, 100);
  assert.ok(secondPage.every((id) => !firstPage.includes(id)), "the next page shows other runs");

  check("executions: filters");
  await navigate(page, "#/executions?domain=dev&tab=open&id=order-open");
  assert.deepEqual(await page.$$eval("table.executions tbody tr", (rows) => rows.map((r) => [r.dataset.workflowId, r.dataset.status])),
    [["order-open", "RUNNING"]]);
  await navigate(page, "#/executions?domain=dev&tab=closed");
  const closed = await page.$$eval("table.executions tbody tr", (rows) => rows.map((r) => [r.dataset.workflowId, r.dataset.status,
    r.children[2].textContent.split("@")[0]]));
  const child = closed.find((r) => r[2] === "packing_flow");
  assert.ok(child, "the order's child run is listed: " + JSON.stringify(closed));
  assert.deepEqual(Object.fromEntries(closed.filter((r) => r !== child).map((r) => [r[0], r[1]])),
    { "country-ok": "COMPLETED", "country-failed": "FAILED", "order-done": "COMPLETED" });
  assert.equal(child[1], "COMPLETED");
  // Through the form, as a person would: status FAILED.
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.select('select[name="status"]', "FAILED");
  await page.click('form.filters button[type="submit"]');
  await settled(page, before);
  assert.deepEqual(await texts(page, "table.executions tbody tr td:first-child"), ["country-failed"]);
  assert.equal(await page.$eval('[data-count="closed"]', (e) => e.textContent), "1");
  await navigate(page, "#/executions?domain=dev&tab=closed&type=order_flow");
  assert.deepEqual(await texts(page, "table.executions tbody tr td:first-child"), ["order-done"]);
  await navigate(page, "#/executions?domain=dev&tab=closed&since=2000-01-01T00:00&until=2000-01-02T00:00");
  assert.equal(await page.$$eval("table.executions tbody tr", (r) => r.length), 0, "a time window with nothing in it");
  // Auto-refresh: a run started meanwhile appears without a reload.
  await navigate(page, "#/executions?domain=dev&tab=open&type=country_flow");
  assert.equal(await page.$$eval("table.executions tbody tr", (r) => r.length), 0);
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click("#auto-refresh");
  await settled(page, before);
  const version = (await swf(endpoint, "ListWorkflowTypes", { domain: DOMAIN, name: "country_flow", registrationStatus: "REGISTERED" })).typeInfos[0].workflowType.version;
  await swf(endpoint, "StartWorkflowExecution", { domain: DOMAIN, workflowId: "country-late", workflowType: { name: "country_flow", version }, input: "{}" });
  await page.waitForSelector('tr[data-workflow-id="country-late"]', { timeout: 12000 });
  await swf(endpoint, "TerminateWorkflowExecution", { domain: DOMAIN, workflowId: "country-late", reason: "test" });
  await navigate(page, "#/executions?domain=dev");

  check("an input stored as a payload (past 32,768 characters) is shown as its value");
  const bigInput = JSON.stringify({ document: "d".repeat(40000) });
  const put = await fetch(endpoint + "/", { method: "POST", body: JSON.stringify({ domain: DOMAIN, data: bigInput }),
    headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "GarconService.PutPayload" } });
  assert.equal(put.status, 200);
  const key = (await put.json()).key;
  await swf(endpoint, "StartWorkflowExecution", { domain: DOMAIN, workflowId: "payload-input", workflowType: { name: "country_flow", version },
    input: `{"garcon.payload":"engine:${key}","characters":${bigInput.length}}` });
  await swf(endpoint, "TerminateWorkflowExecution", { domain: DOMAIN, workflowId: "payload-input", reason: "test" });
  await navigate(page, "#/executions?domain=dev&tab=closed&id=payload-input");
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click('tr[data-workflow-id="payload-input"] a');
  await settled(page, before);
  await page.waitForSelector('#run-input[data-payload="loaded"]', { timeout: 10000 });
  assert.equal(JSON.parse(await page.$eval("#run-input", (e) => e.textContent)).document.length, 40000);
  await navigate(page, "#/executions?domain=dev");

  check("a completed run: summary, DAG, timeline with retries, events");
  await navigate(page, "#/executions?domain=dev&tab=closed&id=country-ok");
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click('tr[data-workflow-id="country-ok"] a');
  await settled(page, before);
  assert.equal(await page.$eval("#run-status", (e) => e.textContent), "COMPLETED");
  assert.match(await page.$eval("#run-input", (e) => e.textContent), /"failures"/);
  assert.match(await page.$eval("#run-result", (e) => e.textContent), /"end_of_flow": true/);
  const okNodes = Object.fromEntries(await page.$$eval("svg.dag g.node", (ns) => ns.map((n) => [n.dataset.activity, n.dataset.state])));
  assert.deepEqual(okNodes, { activity_1: "completed", activity_2: "completed", activity_3: "completed" });
  assert.match(await page.$eval('svg.dag g.node[data-activity="activity_2"] text.counts', (e) => e.textContent), /^5 instances · 7 attempts$/);
  const bars = await page.$$eval("svg.timeline g.bar", (bs) => bs.map((b) => ({ activity: b.dataset.activity, attempt: Number(b.dataset.attempt),
    state: b.dataset.state, id: b.dataset.activityId, label: b.querySelector("text.row-label").textContent, ran: !!b.querySelector("rect.ran") })));
  assert.equal(bars.length, 1 + 5 + 2 + 1, "a bar per attempt: activity_1, five countries, two retries, activity_3");
  const country2 = bars.filter((b) => b.label.includes("[country_id=2]"));
  assert.deepEqual(country2.map((b) => [b.attempt, b.state]), [[1, "failed"], [2, "failed"], [3, "completed"]]);
  assert.ok(bars.every((b) => b.ran), "every attempt started");
  assert.equal(await page.$$eval("svg.timeline g.bar.state-failed text.mark", (m) => m.filter((x) => /country 2 fails/.test(x.textContent)).length), 2);
  const rows = await page.$$eval("table.events tr.event", (r) => r.length);
  assert.ok(rows > 20, `the event table lists the history (${rows} rows)`);
  await page.click('table.events tr.event[data-event-id="1"]');
  const detail = await page.$eval('table.events tr.event[data-event-id="1"] + tr.detail', (d) => ({ hidden: d.hidden, text: d.textContent }));
  assert.equal(detail.hidden, false);
  assert.match(detail.text, /"eventType": "WorkflowExecutionStarted"/);
  assert.equal(await page.$("#action-terminate"), null, "no actions on a closed run");
  await shot(page, "run-completed");

  check("a failed run: reason, failed node, every attempt");
  await navigate(page, "#/executions?domain=dev&tab=closed&id=country-failed");
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click('tr[data-workflow-id="country-failed"] a');
  await settled(page, before);
  assert.equal(await page.$eval("#run-status", (e) => e.textContent), "FAILED");
  assert.match(await page.$eval("#run-reason", (e) => e.textContent), /country 3 fails/);
  const failedNodes = Object.fromEntries(await page.$$eval("svg.dag g.node", (ns) => ns.map((n) => [n.dataset.activity, n.dataset.state])));
  assert.equal(failedNodes.activity_2, "failed");
  assert.equal(failedNodes.activity_3, "waiting");
  const country3 = await page.$$eval("svg.timeline g.bar", (bs) => bs.filter((b) => b.textContent.includes("country_id=3"))
    .map((b) => [Number(b.dataset.attempt), b.dataset.state]));
  assert.deepEqual(country3, [[1, "failed"], [2, "failed"], [3, "failed"], [4, "failed"]], "four attempts of country 3, all failed");
  await shot(page, "run-failed");

  check("the order flow: signal, timers, child run");
  await navigate(page, "#/executions?domain=dev&tab=closed&id=order-done");
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click('tr[data-workflow-id="order-done"] a');
  await settled(page, before);
  assert.equal(await page.$eval("#run-status", (e) => e.textContent), "COMPLETED");
  const orderNodes = Object.fromEntries(await page.$$eval("svg.dag g.node", (ns) => ns.map((n) => [n.dataset.activity, n.dataset.state])));
  assert.deepEqual(orderNodes, { reserve: "completed", charge: "completed", pack: "completed", ship: "completed", notify: "completed" });
  assert.deepEqual(await page.$$eval("svg.timeline g.bar", (bs) => bs.filter((b) => b.dataset.activity === "reserve").map((b) => b.dataset.state)),
    ["failed", "completed"], "reserve failed once, then was retried after a backoff");
  assert.deepEqual(await page.$$eval("svg.timeline g.signal", (s) => s.map((x) => x.dataset.signal)), ["approved"]);
  const timers = await page.$$eval("svg.timeline g.timer", (t) => t.map((x) => x.dataset.timer));
  assert.ok(timers.length >= 2, "the backoff and the delay before shipping are timers: " + timers);
  assert.equal(await page.$eval('svg.timeline g.bar[data-activity="pack"]', (b) => b.dataset.state), "completed");
  await shot(page, "run-order");

  check("a running run: states, then terminate through the UI");
  await navigate(page, "#/executions?domain=dev&tab=open&id=order-open");
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click('tr[data-workflow-id="order-open"] a');
  await settled(page, before);
  assert.equal(await page.$eval("#run-status", (e) => e.textContent), "RUNNING");
  const openNodes = Object.fromEntries(await page.$$eval("svg.dag g.node", (ns) => ns.map((n) => [n.dataset.activity, n.dataset.state])));
  assert.deepEqual(openNodes, { reserve: "completed", charge: "waiting", pack: "waiting", ship: "waiting", notify: "waiting" });
  // Signal through the UI (a name the flow does not wait for): the page
  // reloads with the signal on the timeline.
  await page.click("#action-signal");
  await page.waitForSelector("dialog#confirm[open]");
  await page.type('dialog#confirm input[name="signalName"]', "note");
  await page.type('dialog#confirm textarea[name="input"]', '{"from": "console"}');
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click("#confirm-ok");
  await settled(page, before);
  assert.deepEqual(await page.$$eval("svg.timeline g.signal", (x) => x.map((g) => g.dataset.signal)), ["note"]);
  assert.ok(await page.$('table.events tr.event[data-event-type="WorkflowExecutionSignaled"]'));
  // Auto-refresh on an open run: what happens elsewhere shows by itself.
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click("#auto-refresh");
  await settled(page, before);
  const openRun = decodeURIComponent(page.url().split("/").pop().split("?")[0]);
  await swf(endpoint, "SignalWorkflowExecution", { domain: DOMAIN, workflowId: "order-open", runId: openRun, signalName: "later" });
  await page.waitForSelector('svg.timeline g.signal[data-signal="later"]', { timeout: 12000 });
  await page.click("#action-terminate");
  await page.waitForSelector("dialog#confirm[open]");
  await shot(page, "terminate-dialog");
  // Cancelling the dialog does nothing.
  await page.click('dialog#confirm button[value="cancel"]');
  assert.equal((await swf(endpoint, "DescribeWorkflowExecution", { domain: DOMAIN,
    execution: { workflowId: "order-open", runId: openRun } })).executionInfo.executionStatus, "OPEN");
  await page.click("#action-terminate");
  await page.waitForSelector("dialog#confirm[open]");
  await page.type('dialog#confirm input[name="reason"]', "ordered by mistake");
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click("#confirm-ok");
  await settled(page, before);
  assert.equal(await page.$eval("#run-status", (e) => e.textContent), "TERMINATED");
  assert.match(await page.$eval("#run-reason", (e) => e.textContent), /ordered by mistake/);
  assert.equal(await page.$("#action-terminate"), null);
  assert.equal(await orderOpenExit, 1, "the flow program saw its run terminated");
  await shot(page, "run-terminated");
  await navigate(page, "#/executions?domain=dev&tab=closed&status=TERMINATED");
  assert.ok((await texts(page, "table.executions tbody tr td:first-child")).includes("order-open"));

  check("request cancel through the UI");
  await navigate(page, "#/executions?domain=dev&tab=open&id=bulk-00007");
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click('tr[data-workflow-id="bulk-00007"] a');
  await settled(page, before);
  assert.equal(await page.$eval("#run-status", (e) => e.textContent), "RUNNING");
  assert.ok(await page.$("svg.dag") === null, "a run no Garcon flow decided has no DAG");
  await page.click("#action-cancel");
  await page.waitForSelector("dialog#confirm[open]");
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click("#confirm-ok");
  await settled(page, before);
  assert.equal(await page.$eval("#run-status", (e) => e.textContent), "OPEN (cancel requested)");
  assert.ok(await page.$('table.events tr.event[data-event-type="WorkflowExecutionCancelRequested"]'));

  check("domains, types, task-list backlogs");
  await navigate(page, "#/domains");
  assert.deepEqual(await page.$$eval("table.domains tbody tr", (r) => r.map((x) => x.dataset.domain)), ["dev"]);
  await navigate(page, "#/types?domain=dev");
  const types = await page.$$eval("table.types tbody tr", (r) => r.map((x) => x.dataset.type));
  for (const t of ["country_flow", "order_flow", "packing_flow", "bulk_flow", "country_flow_activity_2", "order_flow_reserve"]) {
    assert.ok(types.includes(t), `type ${t} listed: ${types}`);
  }
  await navigate(page, "#/tasks?domain=dev");
  const backlog = Object.fromEntries(await page.$$eval("table.tasks tbody tr", (r) => r.map((x) => [x.dataset.kind + " " + x.dataset.taskList, x.lastChild.textContent])));
  assert.equal(backlog["decision bulk_flow@1"], BULK.toLocaleString("en-US"), JSON.stringify(backlog));
  assert.ok(Object.keys(backlog).some((k) => k.startsWith("activity country_flow_activity_2")), JSON.stringify(backlog));
  await shot(page, "task-lists");

  // The screenshot of the docs (docs/console.png): the completed country
  // run, its DAG and its timeline with retries.
  await navigate(page, "#/executions?domain=dev&tab=closed&id=country-ok");
  before = await page.evaluate(() => document.body.dataset.loaded);
  await page.click('tr[data-workflow-id="country-ok"] a');
  await settled(page, before);
  const bottom = await page.$eval("svg.timeline", (e) => e.getBoundingClientRect().bottom + window.scrollY);
  await page.screenshot({ path: path.join(SHOTS, "console.png"), clip: { x: 0, y: 0, width: 1360, height: Math.ceil(bottom) + 24 } });
  await page.close();
  server.kill("SIGTERM");

  // ---------------------------------------------------------------- with credentials
  check("--credentials: unsigned refused, signed served");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "garcon-console-"));
  const credentials = path.join(dir, "credentials");
  fs.writeFileSync(credentials, "console-key console-secret-0123456789\n", { mode: 0o600 });
  const { proc: secured, endpoint: securedEndpoint } = await startServer("--credentials", credentials);
  runFlow("country_flow", ["--endpoint", securedEndpoint, "--workflow-id", "signed-run", "--input", '{"failures": {}}'],
    { AWS_ACCESS_KEY_ID: "console-key", AWS_SECRET_ACCESS_KEY: "console-secret-0123456789", AWS_REGION: "us-east-1" }, 0);
  const unsigned = await fetch(securedEndpoint + "/", { method: "POST", body: "{}",
    headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.ListDomains" } });
  assert.equal(unsigned.status, 400);
  assert.match((await unsigned.json()).__type, /MissingAuthenticationToken/);
  // The console's assets stay open: they hold no data.
  assert.equal((await fetch(securedEndpoint + "/console")).status, 200);
  const spage = await newPage(securedEndpoint);
  await spage.goto(securedEndpoint + "/console#/executions?domain=dev&tab=closed");
  await spage.waitForSelector("dialog#login[open]", { timeout: 15000 });
  assert.match(await spage.$eval("#error", (e) => e.textContent), /MissingAuthenticationToken/);
  assert.equal(await spage.$$eval("table.executions tbody tr", (r) => r.length), 0, "nothing shown unsigned");
  await shot(spage, "credentials-asked");
  // A wrong secret: refused, asked again.
  await spage.type('#login input[name="accessKeyId"]', "console-key");
  await spage.type('#login input[name="secretAccessKey"]', "not-the-secret");
  await spage.click('#login button[value="ok"]');
  await spage.waitForFunction(() => /InvalidSignature|SignatureDoesNotMatch/.test(document.getElementById("error").textContent), { timeout: 15000 });
  await spage.waitForSelector("dialog#login[open]");
  await spage.$eval('#login input[name="accessKeyId"]', (e) => { e.value = ""; });
  await spage.type('#login input[name="accessKeyId"]', "console-key");
  await spage.type('#login input[name="secretAccessKey"]', "console-secret-0123456789");
  await spage.click('#login button[value="ok"]');
  await spage.waitForSelector('tr[data-workflow-id="signed-run"]', { timeout: 15000 });
  assert.equal(await spage.$eval('tr[data-workflow-id="signed-run"]', (r) => r.dataset.status), "COMPLETED");
  assert.equal(await spage.$eval("#error", (e) => e.hidden), true);
  assert.match(await spage.$eval("#who", (e) => e.textContent), /signed as console-key/);
  const stored = await spage.evaluate(() => ({ session: sessionStorage.getItem("garcon.console.keys"), local: JSON.stringify(localStorage) }));
  assert.match(stored.session, /console-key/);
  assert.doesNotMatch(stored.local, /console-secret/, "the secret is kept in sessionStorage only");
  // A run's page, signed.
  before = await spage.evaluate(() => document.body.dataset.loaded);
  await spage.click('tr[data-workflow-id="signed-run"] a');
  await settled(spage, before);
  assert.equal(await spage.$eval("#run-status", (e) => e.textContent), "COMPLETED");
  assert.equal(await spage.$$eval("svg.dag g.node", (n) => n.length), 3);
  await shot(spage, "credentials-signed");
  await spage.close();
  secured.kill("SIGTERM");

  const unexpected = problems.filter((p) => !(p.startsWith("console:") && /40[03]/.test(p)));
  assert.deepEqual(unexpected, [], "no script errors, CSP violations or requests elsewhere");
  console.log(`console test passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${SHOTS}`);
} catch (e) {
  console.error(`console test failed at '${step}':`, e);
  if (problems.length) console.error("page problems:", problems);
  await browser.close().catch(() => {});
  process.exit(1);
}
await browser.close();
process.exit(0);
