// What the console draws from data alone: a run's history read into
// attempts, timers and signals; the flow's DAG and the timeline as SVG;
// small DOM and formatting helpers. No requests are made here.
"use strict";

const Views = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const GRAPH_MARKER = "garcon.graph";

  // --- DOM ---------------------------------------------------------------------

  // h("tag#id.class.class", {attr: value, onclick: fn}, child, ...): an element.
  function h(spec, attrs, ...children) {
    const [head, ...classes] = spec.split(".");
    const [tag, id] = head.split("#");
    const el = document.createElement(tag || "div");
    if (id) el.id = id;
    if (classes.length) el.className = classes.join(" ");
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }
  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
  }
  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }

  // --- formatting ----------------------------------------------------------------

  const pad = (n, w = 2) => String(n).padStart(w, "0");
  // SWF times are seconds since the epoch (fractions allowed).
  function time(t) {
    if (t === undefined || t === null || t === "") return "";
    const d = new Date(Number(t) * 1000);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  function duration(seconds) {
    if (seconds === undefined || seconds === null || isNaN(seconds)) return "";
    if (seconds < 1) return Math.round(seconds * 1000) + " ms";
    if (seconds < 60) return (Math.round(seconds * 10) / 10) + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min " + Math.round(seconds % 60) + " s";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h " + Math.round((seconds % 3600) / 60) + " min";
    return Math.floor(seconds / 86400) + " d " + Math.round((seconds % 86400) / 3600) + " h";
  }
  const count = (n) => Number(n || 0).toLocaleString("en-US");
  function pretty(text) {
    if (text === undefined || text === null) return "";
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (e) {
      return String(text);
    }
  }
  const attributesOf = (e) => e[e.eventType.charAt(0).toLowerCase() + e.eventType.slice(1) + "EventAttributes"] || {};

  // --- a history, read ------------------------------------------------------------

  const CLOSES = {
    WorkflowExecutionCompleted: "COMPLETED", WorkflowExecutionFailed: "FAILED",
    WorkflowExecutionTimedOut: "TIMED_OUT", WorkflowExecutionCanceled: "CANCELED",
    WorkflowExecutionTerminated: "TERMINATED", WorkflowExecutionContinuedAsNew: "CONTINUED_AS_NEW",
  };

  // The activity name of an activity id "{flow}_{activity}-{key}".
  function activityName(activityId, flow) {
    const dash = activityId.lastIndexOf("-");
    let name = dash > 0 ? activityId.slice(0, dash) : activityId;
    if (flow && name.startsWith(flow + "_")) name = name.slice(flow.length + 1);
    return name;
  }
  // "generator.country_id=2" from an activity's input.
  function generatorValues(input) {
    try {
      const json = JSON.parse(input || "{}");
      return Object.keys(json).filter((k) => k.startsWith("generator.")).sort()
        .map((k) => k + "=" + (typeof json[k] === "string" ? json[k] : JSON.stringify(json[k]))).join(", ");
    } catch (e) {
      return "";
    }
  }

  // {start, close, graph, attempts, timers, signals, markers} from events.
  function analyze(events) {
    const run = { attempts: [], timers: [], signals: [], markers: [], children: [], graph: null,
      start: null, close: null, input: null, closeEvent: null, cancelRequested: null };
    const bySchedule = new Map();
    const timerById = new Map();
    const childByInit = new Map();
    const tries = new Map();
    for (const e of events) {
      const a = attributesOf(e);
      const t = Number(e.eventTimestamp);
      switch (e.eventType) {
        case "WorkflowExecutionStarted":
          run.start = t;
          run.input = a.input;
          run.started = a;
          break;
        case "WorkflowExecutionCancelRequested":
          run.cancelRequested = t;
          break;
        case "ActivityTaskScheduled": {
          const n = (tries.get(a.activityId) || 0) + 1;
          tries.set(a.activityId, n);
          const attempt = { kind: "activity", id: e.eventId, activityId: a.activityId, attempt: n,
            type: a.activityType, input: a.input, values: generatorValues(a.input),
            scheduled: t, started: null, closed: null, state: "scheduled" };
          bySchedule.set(e.eventId, attempt);
          run.attempts.push(attempt);
          break;
        }
        case "ActivityTaskStarted": {
          const at = bySchedule.get(a.scheduledEventId);
          if (at) { at.started = t; at.state = "running"; at.identity = a.identity; }
          break;
        }
        case "ActivityTaskCompleted":
        case "ActivityTaskFailed":
        case "ActivityTaskTimedOut":
        case "ActivityTaskCanceled": {
          const at = bySchedule.get(a.scheduledEventId);
          if (!at) break;
          at.closed = t;
          at.state = { ActivityTaskCompleted: "completed", ActivityTaskFailed: "failed",
            ActivityTaskTimedOut: "timed_out", ActivityTaskCanceled: "canceled" }[e.eventType];
          at.result = a.result;
          at.reason = a.reason || (a.timeoutType ? "timed out: " + a.timeoutType : undefined);
          at.details = a.details;
          break;
        }
        case "StartChildWorkflowExecutionInitiated": {
          const child = { kind: "child", id: e.eventId, activityId: a.control || a.workflowId,
            workflowId: a.workflowId, type: a.workflowType, input: a.input,
            values: generatorValues(a.input), scheduled: t, started: null, closed: null, state: "scheduled",
            attempt: (tries.get(a.control || a.workflowId) || 0) + 1 };
          tries.set(child.activityId, child.attempt);
          childByInit.set(e.eventId, child);
          run.attempts.push(child);
          break;
        }
        case "ChildWorkflowExecutionStarted": {
          const c = childByInit.get(a.initiatedEventId);
          if (c) { c.started = t; c.state = "running"; c.runId = (a.workflowExecution || {}).runId; }
          break;
        }
        case "StartChildWorkflowExecutionFailed":
        case "ChildWorkflowExecutionCompleted":
        case "ChildWorkflowExecutionFailed":
        case "ChildWorkflowExecutionTimedOut":
        case "ChildWorkflowExecutionCanceled":
        case "ChildWorkflowExecutionTerminated": {
          const c = childByInit.get(a.initiatedEventId);
          if (!c) break;
          c.closed = t;
          c.state = { ChildWorkflowExecutionCompleted: "completed", ChildWorkflowExecutionTimedOut: "timed_out",
            ChildWorkflowExecutionCanceled: "canceled" }[e.eventType] || "failed";
          c.result = a.result;
          c.reason = a.reason || a.cause || (e.eventType === "ChildWorkflowExecutionTerminated" ? "terminated" : undefined);
          break;
        }
        case "TimerStarted": {
          const timer = { id: e.eventId, timerId: a.timerId, started: t, fires: t + Number(a.startToFireTimeout || 0),
            closed: null, state: "running" };
          timerById.set(a.timerId, timer);
          run.timers.push(timer);
          break;
        }
        case "TimerFired":
        case "TimerCanceled": {
          const timer = timerById.get(a.timerId);
          if (timer) { timer.closed = t; timer.state = e.eventType === "TimerFired" ? "fired" : "canceled"; }
          break;
        }
        case "WorkflowExecutionSignaled":
          run.signals.push({ id: e.eventId, name: a.signalName, input: a.input, at: t });
          break;
        case "MarkerRecorded":
          if (a.markerName === GRAPH_MARKER) {
            try { run.graph = JSON.parse(a.details); } catch (err) { run.graph = null; }
          } else {
            run.markers.push({ id: e.eventId, name: a.markerName, at: t });
          }
          break;
        default:
          if (CLOSES[e.eventType]) {
            run.close = t;
            run.closeStatus = CLOSES[e.eventType];
            run.closeEvent = a;
          }
      }
    }
    const flow = run.graph ? run.graph.flow : null;
    for (const at of run.attempts) {
      at.name = activityName(at.activityId, flow);
      // A closed run's attempts that were still open went with it.
      if (run.close !== null && (at.state === "scheduled" || at.state === "running")) {
        at.state = "canceled";
        at.closed = run.close;
        at.reason = "still open when the run closed";
      }
    }
    return run;
  }

  // The state of each graph node: the last attempt of each of its instances
  // (an instance is an activity id), folded: running > scheduled > failed >
  // timed out > canceled > completed; "waiting" when nothing was scheduled.
  const ORDER = ["running", "scheduled", "failed", "timed_out", "canceled", "completed"];
  function nodeStates(run) {
    const out = new Map();
    const lastByInstance = new Map();
    for (const at of run.attempts) lastByInstance.set(at.activityId, at);
    for (const at of lastByInstance.values()) {
      const node = out.get(at.name) || { state: null, instances: 0, attempts: 0, failures: 0 };
      node.instances++;
      const rank = ORDER.indexOf(at.state);
      if (node.state === null || rank < ORDER.indexOf(node.state)) node.state = at.state;
      out.set(at.name, node);
    }
    for (const at of run.attempts) {
      const node = out.get(at.name);
      node.attempts++;
      if (at.state === "failed" || at.state === "timed_out") node.failures++;
    }
    return out;
  }

  // --- the DAG --------------------------------------------------------------------

  const NODE_W = 176, NODE_H = 74, GAP_X = 64, GAP_Y = 22;
  const STATE_LABEL = { running: "running", scheduled: "scheduled", failed: "failed", timed_out: "timed out",
    canceled: "canceled", completed: "completed", waiting: "not started" };

  // Columns by dependency depth (longest path from a root), rows in
  // declaration order.
  function layout(activities) {
    const byName = new Map(activities.map((a) => [a.name, a]));
    const depth = new Map();
    const depthOf = (name, seen) => {
      if (depth.has(name)) return depth.get(name);
      if (seen.has(name)) return 0;  // a cycle: never in a valid flow
      seen.add(name);
      const a = byName.get(name);
      let d = 0;
      for (const r of (a && a.requires) || []) if (byName.has(r)) d = Math.max(d, depthOf(r, seen) + 1);
      depth.set(name, d);
      return d;
    };
    const columns = [];
    for (const a of activities) {
      const d = depthOf(a.name, new Set());
      (columns[d] = columns[d] || []).push(a.name);
    }
    const pos = new Map();
    const tallest = Math.max(1, ...columns.map((c) => (c || []).length));
    const height = tallest * (NODE_H + GAP_Y) - GAP_Y;
    columns.forEach((names, col) => {
      const h = names.length * (NODE_H + GAP_Y) - GAP_Y;
      names.forEach((name, row) => {
        pos.set(name, { x: col * (NODE_W + GAP_X), y: (height - h) / 2 + row * (NODE_H + GAP_Y) });
      });
    });
    return { pos, width: columns.length * (NODE_W + GAP_X) - GAP_X, height };
  }

  function notes(a) {
    const parts = [a.runner || "sync"];
    if (a.generators) parts.push("generator");
    if (a.retries) parts.push("retry " + a.retries);
    if (a.signal) parts.push("awaits " + a.signal);
    if (a.after) parts.push("after " + a.after + " s");
    if (a.allowFailures) parts.push("may fail");
    return parts.join(", ");
  }

  function dag(graph, states) {
    const activities = (graph && graph.activities) || [];
    const { pos, width, height } = layout(activities);
    const pad = 12;
    const svg = s("svg", { class: "dag", width: width + 2 * pad, height: height + 2 * pad,
      viewBox: `${-pad} ${-pad} ${width + 2 * pad} ${height + 2 * pad}`, role: "img",
      "aria-label": "the flow's activities and their dependencies" });
    svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))));
    for (const a of activities) {
      for (const r of a.requires || []) {
        const from = pos.get(r), to = pos.get(a.name);
        if (!from || !to) continue;
        const x1 = from.x + NODE_W, y1 = from.y + NODE_H / 2, x2 = to.x, y2 = to.y + NODE_H / 2;
        const mx = (x1 + x2) / 2;
        svg.append(s("path", { class: "edge", d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`, "marker-end": "url(#arrow)" }));
      }
    }
    for (const a of activities) {
      const p = pos.get(a.name);
      const st = states.get(a.name);
      const state = st ? st.state : "waiting";
      const line = STATE_LABEL[state];
      const counts = [];
      if (st && st.instances > 1) counts.push(`${st.instances} instances`);
      if (st && st.attempts > st.instances) counts.push(`${st.attempts} attempts`);
      const g = s("g", { class: "node state-" + state, "data-activity": a.name, "data-state": state,
        transform: `translate(${p.x},${p.y})` },
        s("title", { text: `${a.name}: ${[line, ...counts].join(", ")}\n${notes(a)}` }),
        s("rect", { width: NODE_W, height: NODE_H, rx: 8 }),
        s("text", { x: 10, y: 19, class: "name", text: clip(a.name, 22) }),
        s("text", { x: 10, y: 35, class: "notes", text: clip(notes(a), 28) }),
        s("text", { x: 10, y: 51, class: "status", text: line }),
        counts.length ? s("text", { x: 10, y: 66, class: "counts", text: counts.join(" · ") }) : null);
      svg.append(g);
    }
    return svg;
  }
  const clip = (text, n) => (text.length > n ? text.slice(0, n - 1) + "…" : text);

  // --- the timeline ----------------------------------------------------------------

  const ROW_H = 22, LABEL_W = 300, CHART_W = 760;

  function ticks(span) {
    const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600,
      900, 1800, 3600, 7200, 14400, 21600, 43200, 86400];
    return steps.find((st) => span / st <= 8) || span / 8;
  }

  // One row per activity attempt (and child run), then one for timers
  // (each bar named by its timer id: retry-N, after-NAME...), then one for
  // signals, each a vertical mark across the rows.
  function timeline(run, now) {
    const begin = run.start !== null ? run.start : Math.min(...run.attempts.map((a) => a.scheduled), now);
    const end = Math.max(run.close !== null ? run.close : now, begin + 0.001,
      ...run.attempts.map((a) => a.closed || 0), ...run.timers.map((t) => t.closed || 0));
    const span = end - begin;
    const x = (t) => LABEL_W + ((t - begin) / span) * CHART_W;
    // The attempts of one activity id together (retries one under the
    // other), in the order each id was first scheduled.
    const firstSeen = new Map();
    run.attempts.forEach((a, i) => { if (!firstSeen.has(a.activityId)) firstSeen.set(a.activityId, i); });
    const rows = run.attempts.map((a, i) => [a, i])
      .sort((p, q) => firstSeen.get(p[0].activityId) - firstSeen.get(q[0].activityId) || p[1] - q[1]).map((p) => p[0]);
    // Timers and signals each get a row at the bottom; their labels are put
    // in lanes so that close ones do not overlap.
    const lanes = (items, at, label) => {
      const ends = [];
      return items.map((it) => {
        const x0 = x(at(it));
        let lane = ends.findIndex((e) => e < x0);
        if (lane < 0) lane = ends.push(0) - 1;
        ends[lane] = x0 + label(it).length * 6.5 + 12;
        return lane;
      });
    };
    const timerLanes = lanes(run.timers, (t) => t.started, (t) => t.timerId);
    const signalLanes = lanes(run.signals, (g) => g.at, (g) => "⚑ " + g.name);
    const LANE_H = 13;
    const timerH = run.timers.length ? ROW_H + LANE_H * Math.max(...timerLanes) : 0;
    const signalH = run.signals.length ? ROW_H + LANE_H * Math.max(...signalLanes) : 0;
    const top = 24;
    const height = top + rows.length * ROW_H + timerH + signalH + 8;
    // Room on the right for the reason of a failure at the very end.
    const svg = s("svg", { class: "timeline", width: LABEL_W + CHART_W + 200, height, role: "img",
      "aria-label": "a bar per activity attempt over time" });
    const step = ticks(span);
    for (let k = 0; k * step <= span + 1e-9; k++) {
      const tx = x(begin + k * step);
      svg.append(s("line", { class: "tick", x1: tx, x2: tx, y1: top - 6, y2: height - 4 }),
        s("text", { class: "tick-label", x: tx + 2, y: 12, text: "+" + duration(k * step) }));
    }
    rows.forEach((at, i) => {
      const y = top + i * ROW_H;
      const values = at.values.replace(/(^|, )generator\./g, "$1");
      const label = `${at.name}${values ? " [" + values + "]" : ""} #${at.attempt}`;
      const closed = at.closed !== null ? at.closed : (run.close !== null ? run.close : now);
      const g = s("g", { class: "bar state-" + at.state, "data-activity": at.name, "data-attempt": at.attempt,
        "data-state": at.state, "data-activity-id": at.activityId });
      g.append(s("title", { text: `${label}: ${at.state}${at.reason ? " (" + at.reason + ")" : ""}\n` +
        `scheduled ${time(at.scheduled)}` + (at.started ? `, started +${duration(at.started - at.scheduled)}` : "") +
        (at.closed ? `, closed after ${duration(at.closed - at.scheduled)}` : "") + (at.identity ? `\nworker ${at.identity}` : "") }));
      g.append(s("text", { class: "row-label", x: 4, y: y + 15, text: clip(label, 44) }));
      const queuedEnd = at.started !== null ? at.started : closed;
      g.append(s("rect", { class: "queued", x: x(at.scheduled), y: y + 6, height: ROW_H - 12,
        width: Math.max(1, x(queuedEnd) - x(at.scheduled)) }));
      if (at.started !== null) {
        g.append(s("rect", { class: "ran", x: x(at.started), y: y + 3, height: ROW_H - 6,
          width: Math.max(2, x(closed) - x(at.started)) }));
      }
      if (at.state === "failed" || at.state === "timed_out") {
        g.append(s("text", { class: "mark", x: x(closed) + 4, y: y + 15, text: "✕ " + clip(at.reason || at.state, 30) }));
      }
      svg.append(g);
    });
    if (run.timers.length) {
      const y = top + rows.length * ROW_H;
      svg.append(s("text", { class: "row-label", x: 4, y: y + 15, text: "timers" }));
      run.timers.forEach((t, i) => {
        const closed = t.closed !== null ? t.closed : (run.close !== null ? run.close : now);
        const ly = y + timerLanes[i] * LANE_H;
        svg.append(s("g", { class: "timer state-" + t.state, "data-timer": t.timerId },
          s("title", { text: `timer ${t.timerId}: ${t.state}, started ${time(t.started)}, ${duration(t.fires - t.started)}` }),
          s("rect", { x: x(t.started), y: ly + 11, height: 5, width: Math.max(2, x(closed) - x(t.started)) }),
          s("text", { class: "mark", x: x(t.started), y: ly + 9, text: t.timerId })));
      });
    }
    if (run.signals.length) {
      const y = top + rows.length * ROW_H + timerH;
      svg.append(s("text", { class: "row-label", x: 4, y: y + 15, text: "signals" }));
      run.signals.forEach((sig, i) => {
        const sx = x(sig.at);
        svg.append(s("g", { class: "signal", "data-signal": sig.name },
          s("title", { text: `signal ${sig.name} at ${time(sig.at)}${sig.input ? "\n" + sig.input : ""}` }),
          s("line", { x1: sx, x2: sx, y1: top - 4, y2: y + 4 + signalLanes[i] * LANE_H }),
          s("text", { class: "mark", x: sx + 3, y: y + 15 + signalLanes[i] * LANE_H, text: "⚑ " + sig.name })));
      });
    }
    return svg;
  }

  return { h, s, time, duration, count, pretty, attributesOf, analyze, nodeStates, dag, timeline, CLOSES };
})();
