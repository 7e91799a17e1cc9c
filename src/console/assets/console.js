// The console's pages: executions, one execution, domains, types, task
// lists. Routes live in the URL's hash (#/executions?..., #/run/ID/RUN), so
// every view can be bookmarked and reloaded.
"use strict";

(() => {
  const { h, time, duration, count, pretty, attributesOf } = Views;
  const call = Swf.call;
  const main = document.getElementById("main");
  const PAGE_SIZE = 100;
  const REFRESH_MS = 5000;
  const STATUSES = ["COMPLETED", "FAILED", "CANCELED", "TERMINATED", "CONTINUED_AS_NEW", "TIMED_OUT"];

  let refreshTimer = null;
  let renderToken = 0;  // a newer render makes older async renders drop their output

  // --- routing ----------------------------------------------------------------------

  function route() {
    const hash = location.hash.replace(/^#/, "") || "/executions";
    const [path, query] = hash.split("?");
    return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query || "") };
  }
  function go(path, params) {
    const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== undefined && v !== null)).toString() : "";
    location.hash = "#" + path + (q ? "?" + q : "");
  }
  function domain() {
    return route().params.get("domain") || localStorage.getItem("garcon.console.domain") || "dev";
  }
  function setDomain(d) {
    localStorage.setItem("garcon.console.domain", d);
  }

  // --- errors and sign-in --------------------------------------------------------------

  const errorBox = document.getElementById("error");
  function showError(e) {
    if (e && e.auth) {
      askForKeys(e);
      return;
    }
    errorBox.hidden = false;
    errorBox.textContent = e ? (e.type && e.type !== e.message ? e.type + ": " : "") + e.message : "";
  }
  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  const login = document.getElementById("login");
  function askForKeys(e) {
    errorBox.hidden = false;
    errorBox.textContent = "The server refused the request (" + e.type + "): " + e.message +
      (Swf.keys() ? " Check the keys." : " It requires signed requests: sign in with an access key.");
    errorBox.classList.add("auth");
    document.getElementById("login-reason").textContent = e.type + ": " + e.message;
    const k = Swf.keys();
    const form = document.getElementById("login-form");
    if (k) {
      form.accessKeyId.value = k.accessKeyId;
      form.region.value = k.region;
    }
    if (!login.open) login.showModal();
  }
  document.getElementById("login-form").addEventListener("submit", (ev) => {
    const form = ev.target;
    Swf.setKeys({ accessKeyId: form.accessKeyId.value.trim(), secretAccessKey: form.secretAccessKey.value,
      region: form.region.value.trim() || "us-east-1" });
    form.secretAccessKey.value = "";
    errorBox.classList.remove("auth");
    clearError();
    showWho();
    loadDomains();
    render();
  });
  function showWho() {
    const who = document.getElementById("who");
    who.replaceChildren();
    const k = Swf.keys();
    if (!k) return;
    who.append("signed as " + k.accessKeyId + " ", h("button.link", { onclick: () => {
      Swf.setKeys(null);
      showWho();
      render();
    }, text: "sign out" }));
  }

  // --- confirmation ------------------------------------------------------------------

  // Opens the confirmation dialog; resolves to the fields' values, or null.
  function confirmAction(title, text, fields, okLabel) {
    const dialog = document.getElementById("confirm");
    document.getElementById("confirm-title").textContent = title;
    document.getElementById("confirm-text").textContent = text;
    const box = document.getElementById("confirm-fields");
    box.replaceChildren(...fields.map((f) => h("label", {}, f.label,
      f.multiline ? h("textarea", { name: f.name, rows: 4, required: f.required, placeholder: f.placeholder || "" })
        : h("input", { name: f.name, required: f.required, placeholder: f.placeholder || "" }))));
    document.getElementById("confirm-ok").textContent = okLabel;
    dialog.returnValue = "";
    stopRefresh();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        if (dialog.returnValue !== "ok") return resolve(null);
        const values = {};
        for (const f of fields) values[f.name] = box.querySelector(`[name="${f.name}"]`).value;
        resolve(values);
      }, { once: true });
      dialog.showModal();
    });
  }

  // --- the domain picker ----------------------------------------------------------------

  async function loadDomains() {
    const select = document.getElementById("domain");
    try {
      const names = [];
      let token;
      do {
        const out = await call("ListDomains", { registrationStatus: "REGISTERED", maximumPageSize: 1000, nextPageToken: token });
        for (const d of out.domainInfos || []) names.push(d.name);
        token = out.nextPageToken;
      } while (token);
      const current = domain();
      if (!names.includes(current)) names.unshift(current);
      select.replaceChildren(...names.sort().map((n) => h("option", { value: n, selected: n === current, text: n })));
    } catch (e) {
      showError(e);
    }
  }
  document.getElementById("domain").addEventListener("change", (ev) => {
    setDomain(ev.target.value);
    const r = route();
    const page = r.parts[0] === "run" ? "executions" : (r.parts[0] || "executions");
    go("/" + page, { domain: ev.target.value });
  });

  // --- executions ------------------------------------------------------------------------

  function toEpoch(local) {
    return local ? Math.floor(new Date(local).getTime() / 1000) : null;
  }

  // The request filters of the executions view, from the route's params.
  function executionFilters(p) {
    const req = { domain: domain() };
    const since = toEpoch(p.get("since"));
    const until = toEpoch(p.get("until"));
    req.startTimeFilter = { oldestDate: since === null ? 0 : since };
    if (until !== null) req.startTimeFilter.latestDate = until;
    if (p.get("type")) {
      const [name, version] = p.get("type").split("@");
      req.typeFilter = version ? { name, version } : { name };
    } else if (p.get("id")) {
      req.executionFilter = { workflowId: p.get("id") };
    } else if (p.get("status") && p.get("tab") === "closed") {
      req.closeStatusFilter = { status: p.get("status") };
    }
    return req;
  }

  async function executionsPage(p, token) {
    const tab = p.get("tab") === "closed" ? "closed" : "open";
    const filters = executionFilters(p);
    const countFilters = Object.assign({}, filters);
    const openCount = Object.assign({}, countFilters);
    delete openCount.closeStatusFilter;
    const pageToken = p.get("page") || undefined;
    const list = call(tab === "open" ? "ListOpenWorkflowExecutions" : "ListClosedWorkflowExecutions",
      Object.assign({}, filters, { maximumPageSize: PAGE_SIZE, reverseOrder: false, nextPageToken: pageToken }));
    const counts = Promise.all([
      call("CountOpenWorkflowExecutions", openCount).catch((e) => ({ error: e })),
      call("CountClosedWorkflowExecutions", countFilters).catch((e) => ({ error: e })),
    ]);
    const types = typesForFilter();
    let out;
    try {
      out = await list;
    } catch (e) {
      if (token !== renderToken) return;
      showError(e);
      main.replaceChildren(executionsHeader(p, tab, await counts, await types), h("p.empty", { text: "Could not list the executions." }));
      return;
    }
    const [c, t] = [await counts, await types];
    if (token !== renderToken) return;
    clearError();
    const rows = (out.executionInfos || []).map((info) => executionRow(info));
    const table = h("table.executions", { "data-count": rows.length },
      h("thead", {}, h("tr", {}, ["Workflow id", "Run", "Type", "Status", "Started", "Closed", "Duration", "Tags"].map((x) => h("th", { text: x })))),
      h("tbody", {}, rows));
    const pager = h("div.pager", {},
      p.get("page") ? h("button", { onclick: () => history.back(), text: "← Previous" }) : null,
      h("span", { text: `${rows.length} shown` + (out.nextPageToken ? ", more on the next page" : "") }),
      out.nextPageToken ? h("button#next-page", { onclick: () => {
        const q = Object.fromEntries(p.entries());
        q.page = out.nextPageToken;
        go("/executions", q);
      }, text: "Next page →" }) : null);
    main.replaceChildren(executionsHeader(p, tab, c, t), rows.length ? table : h("p.empty", { text: "No executions match." }), pager);
  }

  function statusOf(info) {
    return info.executionStatus === "OPEN" ? (info.cancelRequested ? "OPEN (cancel requested)" : "RUNNING") : info.closeStatus;
  }
  function executionRow(info) {
    const ex = info.execution;
    const end = info.closeTimestamp ? Number(info.closeTimestamp) : Date.now() / 1000;
    const href = runHref(ex.workflowId, ex.runId);
    const status = statusOf(info);
    return h("tr", { "data-workflow-id": ex.workflowId, "data-status": status },
      h("td", {}, h("a", { href, text: ex.workflowId })),
      h("td.mono", { title: ex.runId, text: ex.runId.slice(0, 10) + "…" }),
      h("td", { text: info.workflowType.name + "@" + info.workflowType.version }),
      h("td", {}, h("span.status.st-" + status.split(" ")[0], { text: status })),
      h("td", { text: time(info.startTimestamp) }),
      h("td", { text: time(info.closeTimestamp) }),
      h("td", { text: duration(end - Number(info.startTimestamp)) }),
      h("td", { text: (info.tagList || []).join(", ") }));
  }
  const runHref = (workflowId, runId) => "#/run/" + encodeURIComponent(workflowId) + "/" + encodeURIComponent(runId) +
    "?domain=" + encodeURIComponent(domain());

  let typeNames = { domain: null, names: [] };
  async function typesForFilter() {
    if (typeNames.domain === domain()) return typeNames.names;
    try {
      const names = new Set();
      let token;
      do {
        const out = await call("ListWorkflowTypes", { domain: domain(), registrationStatus: "REGISTERED", maximumPageSize: 1000, nextPageToken: token });
        for (const t of out.typeInfos || []) names.add(t.workflowType.name);
        token = out.nextPageToken;
      } while (token);
      typeNames = { domain: domain(), names: [...names].sort() };
    } catch (e) {
      return [];
    }
    return typeNames.names;
  }

  function executionsHeader(p, tab, counts, types) {
    const q = Object.fromEntries(p.entries());
    delete q.page;
    const tabLink = (name, label, c) => h("a.tab" + (tab === name ? ".active" : ""), {
      href: "#/executions?" + new URLSearchParams(Object.assign({}, q, { tab: name })).toString(), "data-tab": name },
      label + " ", h("span.count", { "data-count": name, text: c && !c.error ? count(c.count) + (c.truncated ? "+" : "") : "?" }));
    const form = h("form.filters", { onsubmit: (ev) => {
      ev.preventDefault();
      const f = ev.target;
      const field = (name) => (f.elements.namedItem(name) ? f.elements.namedItem(name).value.trim() : "");
      go("/executions", { domain: domain(), tab, type: field("type"), id: field("workflowId"),
        status: tab === "closed" ? field("status") : "", since: field("since"), until: field("until"),
        refresh: p.get("refresh") });
    } },
      h("label", {}, "Type ", h("select", { name: "type" }, h("option", { value: "", text: "any" }),
        types.map((n) => h("option", { value: n, selected: p.get("type") === n, text: n })))),
      h("label", {}, "Workflow id ", h("input", { name: "workflowId", value: p.get("id") || "", placeholder: "exact id" })),
      tab === "closed" ? h("label", {}, "Status ", h("select", { name: "status" }, h("option", { value: "", text: "any" }),
        STATUSES.map((st) => h("option", { value: st, selected: p.get("status") === st, text: st })))) : null,
      h("label", {}, "Started after ", h("input", { name: "since", type: "datetime-local", value: p.get("since") || "" })),
      h("label", {}, "before ", h("input", { name: "until", type: "datetime-local", value: p.get("until") || "" })),
      h("button.primary", { type: "submit", text: "Filter" }),
      h("button", { type: "button", text: "Clear", onclick: () => go("/executions", { domain: domain(), tab }) }));
    const refresh = refreshToggle();
    const note = [p.get("type"), p.get("id"), tab === "closed" && p.get("status")].filter(Boolean).length > 1
      ? h("p.note", { text: "SWF filters by one of type, workflow id and status at a time: type, then id, then status is applied." }) : null;
    return h("section", {}, h("div.tabs", {}, tabLink("open", "Open", counts[0]), tabLink("closed", "Closed", counts[1]), refresh), form, note);
  }

  // The auto-refresh checkbox: a `refresh=1` in the route, so that a
  // reload keeps it.
  function refreshToggle() {
    const r = route();
    return h("label.refresh", {}, h("input#auto-refresh", { type: "checkbox", checked: r.params.get("refresh") === "1",
      onchange: (ev) => {
        const next = Object.fromEntries(r.params.entries());
        next.refresh = ev.target.checked ? "1" : "";
        go("/" + r.parts.map(encodeURIComponent).join("/"), next);
      } }), " auto-refresh (5 s)");
  }

  // --- one execution ------------------------------------------------------------------------

  async function fullHistory(execution) {
    const events = [];
    let token;
    do {
      const out = await call("GetWorkflowExecutionHistory", { domain: domain(), execution, maximumPageSize: 1000, nextPageToken: token });
      events.push(...(out.events || []));
      token = out.nextPageToken;
    } while (token);
    return events;
  }

  // A value as a <pre>: a payload's reference (a value past SWF's 32,768
  // characters stored outside the history, docs/payloads.md) is replaced by
  // the value, read with GetPayload from the server's store; one in S3 is
  // named, not read (the console has no S3 credentials).
  function valueBlock(spec, text, empty) {
    let ref = null;
    if (typeof text === "string" && text.startsWith('{"garcon.payload":')) {
      try { ref = JSON.parse(text); } catch (e) { ref = null; }
    }
    const locator = ref && typeof ref["garcon.payload"] === "string" ? ref["garcon.payload"] : null;
    if (!locator) return h(spec, { text: pretty(text) || empty });
    const size = ref.characters ? ref.characters.toLocaleString("en-US") + " characters" : "a payload";
    if (!locator.startsWith("engine:")) {
      return h(spec, { text: `(${size}, stored in ${locator})`, "data-payload": "elsewhere" });
    }
    const block = h(spec, { text: `(${size}, stored as a payload: loading...)`, "data-payload": "loading" });
    call("GetPayload", { domain: domain(), key: locator.slice("engine:".length) }, "GarconService")
      .then((out) => {
        block.textContent = pretty(out.data);
        block.dataset.payload = "loaded";
      })
      .catch((e) => {
        block.textContent = `(${size}, stored as a payload that could not be read: ${e.message})`;
        block.dataset.payload = "failed";
      });
    return block;
  }

  async function runPage(workflowId, runId, token) {
    const execution = { workflowId, runId };
    let described, events;
    try {
      [described, events] = await Promise.all([
        call("DescribeWorkflowExecution", { domain: domain(), execution }), fullHistory(execution)]);
    } catch (e) {
      if (token !== renderToken) return;
      showError(e);
      main.replaceChildren(h("p.empty", { text: `Could not load ${workflowId} (run ${runId}).` }));
      return;
    }
    if (token !== renderToken) return;
    clearError();
    const info = described.executionInfo;
    const run = Views.analyze(events);
    const now = Date.now() / 1000;
    const open = info.executionStatus === "OPEN";
    const status = statusOf(info);
    const closeEvent = run.closeEvent || {};
    const fields = [
      ["Workflow id", workflowId], ["Run id", runId],
      ["Type", info.workflowType.name + "@" + info.workflowType.version],
      ["Started", time(info.startTimestamp)],
      ["Closed", time(info.closeTimestamp)],
      ["Duration", duration((info.closeTimestamp ? Number(info.closeTimestamp) : now) - Number(info.startTimestamp))],
      ["Task list", (described.executionConfiguration.taskList || {}).name],
      ["Open tasks", open ? Object.entries(described.openCounts || {}).filter(([, v]) => v).map(([k, v]) => k + " " + v).join(", ") || "none" : ""],
      ["Tags", (info.tagList || []).join(", ")],
      ["Parent", info.parent ? info.parent.workflowId : ""],
    ].filter(([, v]) => v);
    const summary = h("section.summary", {},
      h("h1", {}, workflowId, " ", h("span.status.big.st-" + status.split(" ")[0], { id: "run-status", text: status })),
      h("dl", {}, fields.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
      h("div.io", {},
        h("div", {}, h("h3", { text: "Input" }), valueBlock("pre#run-input", run.input, "(none)")),
        closeEvent.result !== undefined ? h("div", {}, h("h3", { text: "Result" }), valueBlock("pre#run-result", closeEvent.result, "")) : null,
        closeEvent.reason !== undefined || closeEvent.details !== undefined ? h("div", {}, h("h3", { text: "Reason" }),
          h("pre#run-reason", { text: [closeEvent.reason, closeEvent.details && pretty(closeEvent.details)].filter(Boolean).join("\n\n") })) : null),
      open ? actions(execution) : null,
      open ? refreshToggle() : null);
    const states = Views.nodeStates(run);
    const dagSection = h("section.graph", {}, h("h2", { text: "Flow" }),
      run.graph ? h("div.scroll", {}, Views.dag(run.graph, states))
        : h("p.empty", { text: "No garcon.graph marker in this history: the run was not decided by a Garcon flow (or not yet)." }),
      legend());
    const timelineSection = h("section", {}, h("h2", { text: "Timeline" }),
      run.attempts.length || run.timers.length ? h("div.scroll", {}, Views.timeline(run, now)) : h("p.empty", { text: "No activity yet." }));
    main.replaceChildren(h("p.back", {}, h("a", { href: "#/executions?domain=" + encodeURIComponent(domain()) + (open ? "" : "&tab=closed"), text: "← executions" })),
      summary, dagSection, timelineSection, eventTable(events));
  }

  function legend() {
    return h("div.legend", {}, ["completed", "running", "scheduled", "failed", "timed_out", "canceled", "waiting"].map((st) =>
      h("span.key.state-" + st, { text: st === "waiting" ? "not started" : st.replace("_", " ") })));
  }

  function actions(execution) {
    const done = (what) => (out) => {
      if (out === false) return;
      clearError();
      render();
      return what;
    };
    const act = async (op, request) => {
      try {
        await call(op, Object.assign({ domain: domain() }, execution, request));
        return true;
      } catch (e) {
        showError(e);
        return false;
      }
    };
    const who = `${execution.workflowId} (run ${execution.runId.slice(0, 10)}…)`;
    return h("div.actions", {},
      h("button#action-signal", { text: "Signal…", onclick: async () => {
        const v = await confirmAction("Signal " + who, "Send a signal to this run. Its decider sees it in the history.",
          [{ name: "signalName", label: "Signal name", required: true, placeholder: "approved" },
            { name: "input", label: "Input (optional)", multiline: true, placeholder: '{"approver": "ana"}' }], "Send signal");
        if (v) done("signal")(await act("SignalWorkflowExecution", { signalName: v.signalName, input: v.input || undefined }));
      } }),
      h("button#action-cancel", { text: "Request cancel…", onclick: async () => {
        const v = await confirmAction("Request the cancellation of " + who,
          "The decider is asked to cancel the run: it cancels the open activities and closes it as CANCELED.", [], "Request cancel");
        if (v) done("cancel")(await act("RequestCancelWorkflowExecution", {}));
      } }),
      h("button#action-terminate.danger", { text: "Terminate…", onclick: async () => {
        const v = await confirmAction("Terminate " + who,
          "The run ends now, as TERMINATED: no decider or worker is asked. This cannot be undone.",
          [{ name: "reason", label: "Reason", required: true, placeholder: "why" },
            { name: "details", label: "Details (optional)", multiline: true }], "Terminate");
        if (v) done("terminate")(await act("TerminateWorkflowExecution", { reason: v.reason, details: v.details || undefined }));
      } }));
  }

  // Key attributes of an event, in a line.
  function eventSummary(e) {
    const a = attributesOf(e);
    const bits = [];
    for (const k of ["activityId", "timerId", "signalName", "markerName", "reason", "timeoutType", "cause", "identity", "workflowId"]) {
      if (a[k] !== undefined) bits.push(k + "=" + a[k]);
    }
    if (a.activityType) bits.unshift(a.activityType.name);
    if (a.decisionTaskCompletedEventId === undefined && a.scheduledEventId !== undefined) bits.push("scheduled #" + a.scheduledEventId);
    return bits.join("  ");
  }

  const EVENTS_SHOWN = 500;
  function eventTable(events) {
    const body = h("tbody");
    const start = events.length ? Number(events[0].eventTimestamp) : 0;
    let shown = 0;
    const more = h("button", { text: "" });
    const addRows = () => {
      const upto = Math.min(events.length, shown + EVENTS_SHOWN);
      for (; shown < upto; shown++) {
        const e = events[shown];
        const detail = h("tr.detail", { hidden: true }, h("td", { colspan: 4 }, h("pre", { text: JSON.stringify(e, null, 2) })));
        const row = h("tr.event", { "data-event-id": e.eventId, "data-event-type": e.eventType, onclick: () => {
          detail.hidden = !detail.hidden;
          row.classList.toggle("open", !detail.hidden);
        } },
          h("td.num", { text: e.eventId }),
          h("td", { text: "+" + duration(Number(e.eventTimestamp) - start) }),
          h("td", { text: e.eventType }),
          h("td.mono", { text: eventSummary(e) }));
        body.append(row, detail);
      }
      more.hidden = shown >= events.length;
      more.textContent = `Show ${Math.min(EVENTS_SHOWN, events.length - shown)} more of ${count(events.length - shown)}`;
    };
    more.addEventListener("click", addRows);
    addRows();
    return h("section", {}, h("h2", { text: `Events (${count(events.length)})` }),
      h("p.hint", { text: "Click an event to see its JSON." }),
      h("table.events", {}, h("thead", {}, h("tr", {}, ["#", "At", "Type", "Details"].map((x) => h("th", { text: x })))), body), more);
  }

  // --- domains, types, task lists ---------------------------------------------------------------

  async function listAll(op, request, key) {
    const out = [];
    let token;
    do {
      const page = await call(op, Object.assign({}, request, { maximumPageSize: 1000, nextPageToken: token }));
      out.push(...(page[key] || []));
      token = page.nextPageToken;
    } while (token);
    return out;
  }

  async function domainsPage(token) {
    const [registered, deprecated] = await Promise.all(["REGISTERED", "DEPRECATED"].map((st) =>
      listAll("ListDomains", { registrationStatus: st }, "domainInfos")));
    const all = registered.concat(deprecated);
    const configs = await Promise.all(all.map((d) => call("DescribeDomain", { name: d.name }).catch(() => ({}))));
    if (token !== renderToken) return;
    main.replaceChildren(h("h1", { text: "Domains" }), h("table.domains", {},
      h("thead", {}, h("tr", {}, ["Name", "Status", "Retention (days)", "Description"].map((x) => h("th", { text: x })))),
      h("tbody", {}, all.map((d, i) => h("tr", { "data-domain": d.name },
        h("td", {}, h("a", { href: "#/executions?domain=" + encodeURIComponent(d.name), text: d.name, onclick: () => setDomain(d.name) })),
        h("td", { text: d.status }),
        h("td", { text: ((configs[i] || {}).configuration || {}).workflowExecutionRetentionPeriodInDays || "" }),
        h("td", { text: d.description || "" }))))));
  }

  async function describeTypes() {
    const d = domain();
    const [wf, act] = await Promise.all([
      listAll("ListWorkflowTypes", { domain: d, registrationStatus: "REGISTERED" }, "typeInfos"),
      listAll("ListActivityTypes", { domain: d, registrationStatus: "REGISTERED" }, "typeInfos")]);
    const wfConfigs = await Promise.all(wf.map((t) => call("DescribeWorkflowType", { domain: d, workflowType: t.workflowType }).catch(() => ({}))));
    const actConfigs = await Promise.all(act.map((t) => call("DescribeActivityType", { domain: d, activityType: t.activityType }).catch(() => ({}))));
    return { wf, act, wfConfigs, actConfigs };
  }

  const secs = (v) => (v === undefined || v === "NONE" ? v || "" : duration(Number(v)));

  async function typesPage(token) {
    const { wf, act, wfConfigs, actConfigs } = await describeTypes();
    if (token !== renderToken) return;
    const wfRows = wf.map((t, i) => {
      const c = (wfConfigs[i] || {}).configuration || {};
      return h("tr", { "data-type": t.workflowType.name },
        h("td", {}, h("a", { href: "#/executions?" + new URLSearchParams({ domain: domain(), type: t.workflowType.name, tab: "closed" }), text: t.workflowType.name })),
        h("td", { text: t.workflowType.version }), h("td", { text: (c.defaultTaskList || {}).name || "" }),
        h("td", { text: secs(c.defaultExecutionStartToCloseTimeout) }), h("td", { text: secs(c.defaultTaskStartToCloseTimeout) }),
        h("td", { text: c.defaultChildPolicy || "" }), h("td", { text: time(t.creationDate) }));
    });
    const actRows = act.map((t, i) => {
      const c = (actConfigs[i] || {}).configuration || {};
      return h("tr", { "data-type": t.activityType.name },
        h("td", { text: t.activityType.name }), h("td", { text: t.activityType.version }),
        h("td", { text: (c.defaultTaskList || {}).name || "" }),
        h("td", { text: secs(c.defaultTaskScheduleToStartTimeout) }), h("td", { text: secs(c.defaultTaskStartToCloseTimeout) }),
        h("td", { text: secs(c.defaultTaskHeartbeatTimeout) }), h("td", { text: time(t.creationDate) }));
    });
    main.replaceChildren(h("h1", { text: `Types in ${domain()}` }),
      h("h2", { text: "Workflow types" }), h("table.types", {},
        h("thead", {}, h("tr", {}, ["Name", "Version", "Task list", "Run timeout", "Decision timeout", "Child policy", "Registered"].map((x) => h("th", { text: x })))),
        h("tbody", {}, wfRows)),
      h("h2", { text: "Activity types" }), h("table.types", {},
        h("thead", {}, h("tr", {}, ["Name", "Version", "Task list", "Schedule to start", "Start to close", "Heartbeat", "Registered"].map((x) => h("th", { text: x })))),
        h("tbody", {}, actRows)));
  }

  async function tasksPage(token) {
    const { wf, act, wfConfigs, actConfigs } = await describeTypes();
    const lists = new Map();
    wf.forEach((t, i) => {
      const name = (((wfConfigs[i] || {}).configuration || {}).defaultTaskList || {}).name;
      if (name) lists.set("decision " + name, { kind: "decision", name });
    });
    act.forEach((t, i) => {
      const name = (((actConfigs[i] || {}).configuration || {}).defaultTaskList || {}).name;
      if (name) lists.set("activity " + name, { kind: "activity", name });
    });
    const entries = [...lists.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
    const counts = await Promise.all(entries.map((l) => call(l.kind === "decision" ? "CountPendingDecisionTasks" : "CountPendingActivityTasks",
      { domain: domain(), taskList: { name: l.name } }).catch((e) => ({ error: e }))));
    if (token !== renderToken) return;
    const own = h("form.filters", { onsubmit: async (ev) => {
      ev.preventDefault();
      const f = ev.target;
      const out = f.querySelector("output");
      try {
        const c = await call(f.kind.value === "decision" ? "CountPendingDecisionTasks" : "CountPendingActivityTasks",
          { domain: domain(), taskList: { name: f.list.value.trim() } });
        out.textContent = count(c.count) + (c.truncated ? "+" : "") + " pending";
      } catch (e) {
        out.textContent = e.message;
      }
    } }, h("label", {}, "Count ", h("select", { name: "kind" }, h("option", { value: "activity", text: "activity" }), h("option", { value: "decision", text: "decision" }))),
      h("label", {}, " tasks of ", h("input", { name: "list", required: true, placeholder: "task list" })),
      h("button.primary", { type: "submit", text: "Count" }), " ", h("output"));
    main.replaceChildren(h("h1", { text: `Task-list backlogs in ${domain()}` }),
      h("p.hint", { text: "Pending tasks of the task lists named by the registered types' defaults (a backlog that grows means too few deciders or workers)." }),
      h("table.tasks", {}, h("thead", {}, h("tr", {}, ["Kind", "Task list", "Pending"].map((x) => h("th", { text: x })))),
        h("tbody", {}, entries.map((l, i) => h("tr", { "data-task-list": l.name, "data-kind": l.kind },
          h("td", { text: l.kind }), h("td.mono", { text: l.name }),
          h("td.num" + (counts[i].count ? ".backlog" : ""), { text: counts[i].error ? counts[i].error.message : count(counts[i].count) + (counts[i].truncated ? "+" : "") }))))),
      own);
  }

  // --- rendering ---------------------------------------------------------------------------------

  function stopRefresh() {
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = null;
  }

  async function render() {
    stopRefresh();
    const token = ++renderToken;
    const r = route();
    if (r.params.get("domain")) setDomain(r.params.get("domain"));
    const page = r.parts[0] || "executions";
    for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.nav === (page === "run" ? "executions" : page));
    for (const a of document.querySelectorAll("nav a")) a.href = "#/" + a.dataset.nav + "?domain=" + encodeURIComponent(domain());
    const select = document.getElementById("domain");
    if (select.value !== domain() && [...select.options].some((o) => o.value === domain())) select.value = domain();
    document.body.dataset.page = page;
    try {
      if (page === "run" && r.parts.length >= 3) await runPage(r.parts[1], r.parts[2], token);
      else if (page === "domains") await domainsPage(token);
      else if (page === "types") await typesPage(token);
      else if (page === "tasks") await tasksPage(token);
      else await executionsPage(r.params, token);
    } catch (e) {
      if (token === renderToken) showError(e);
    }
    if (token !== renderToken) return;
    document.body.dataset.loaded = String(token);
    // Executions, or an open run (a closed one no longer changes).
    const auto = r.params.get("refresh") === "1" && (page === "executions" || (page === "run" && document.getElementById("auto-refresh")));
    if (auto) {
      refreshTimer = setTimeout(() => {
        if (!document.querySelector("dialog[open]")) render();
      }, REFRESH_MS);
    }
  }

  window.addEventListener("hashchange", render);
  showWho();
  loadDomains();
  render();
})();
