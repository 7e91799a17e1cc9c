// FlowTest: one flow (and its child flows) driven on the embedded engine with
// a fake clock, one decision or task at a time, the clock jumping to the next
// timer, signal or cancel request when nothing else can happen.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "garcon/activity_execution.h"
#include "garcon/app.h"
#include "garcon/clock.h"
#include "garcon/engine.h"
#include "garcon/testing.h"
#include "garcon/worker.h"
#include "payload/payload_service.h"

namespace garcon::testing {
namespace {

const char* kWorkflowId = "flow-test";

Json Must(swf::Service& service, const std::string& operation, const Json& request) {
  Result<Json> r = service.Call(operation, request);
  if (!r.ok()) throw std::runtime_error("FlowTest: " + operation + ": " + r.status().ToString());
  return *r;
}

}  // namespace

int RunResult::Attempts(const std::string& activity) const {
  int n = 0;
  for (const Json& e : history) {
    if (e.value("eventType", "") != "ActivityTaskScheduled") continue;
    const std::string type =
        EventAttributes(e).value("activityType", Json::object()).value("name", "");
    if (type == activity || type.ends_with("_" + activity)) ++n;
  }
  return n;
}

Json RunResult::HistoryJson() const { return {{"events", history}}; }

struct FlowTest::Impl {
  explicit Impl(const Flow& f) : flow(f), clock(std::make_shared<FakeClock>()) {
    engine::EngineOptions options;
    options.clock = clock;
    options.timer_thread = false;
    engine = std::make_unique<engine::Engine>(options);
    service = std::make_unique<payload::PayloadService>(*engine, nullptr, flow.domain());
    flows.push_back(&flow);
    for (const Flow* child : flow.ChildFlows()) flows.push_back(child);
    last_found.assign(flows.size(), 0);
  }

  // Per flow, the index of the activity whose task a step handled last.
  std::vector<std::size_t> last_found;

  // A signal or a cancel request the test sends at a fake time.
  struct PendingEvent {
    enum class Kind { kSignal, kCancel };
    Kind kind = Kind::kSignal;
    std::string name;  // the signal's
    Context input;     // the signal's
    std::chrono::seconds after{0};
  };

  const Flow& flow;
  std::shared_ptr<FakeClock> clock;
  std::unique_ptr<engine::Engine> engine;
  // The engine as fakes and the history see it: payloads stored and
  // resolved as the decider's and worker's are.
  std::unique_ptr<payload::PayloadService> service;
  std::vector<const Flow*> flows;
  std::map<const Activity*, FakeActivity> fakes;
  // Signals and cancel requests by time, in the order given at equal times.
  std::vector<PendingEvent> to_send;
  std::map<std::string, int> attempts;  // by activity id and run
  int runs = 0;

  void Add(PendingEvent event) {
    to_send.push_back(std::move(event));
    std::stable_sort(to_send.begin(), to_send.end(),
                     [](const auto& a, const auto& b) { return a.after < b.after; });
  }

  const Activity* Find(const std::string& name) const {
    for (const Flow* f : flows) {
      if (const Activity* a = f->FindActivity(name)) return a;
    }
    return nullptr;
  }

  Json History(const std::string& workflow_id, const std::string& run_id) {
    std::vector<Json> events;
    Json request = {{"domain", flow.domain()},
                    {"execution", {{"workflowId", workflow_id}, {"runId", run_id}}}};
    for (;;) {
      Json page = Must(*service, "GetWorkflowExecutionHistory", request);
      for (auto& e : page["events"]) events.push_back(std::move(e));
      const std::string token = page.value("nextPageToken", "");
      if (token.empty()) break;
      request["nextPageToken"] = token;
    }
    return events;
  }

  // Runs a fake for one task of `activity`, if one is queued.
  bool RunFake(const Activity& activity, const FakeActivity& fake) {
    Json task = Must(*service, "PollForActivityTask",
                     {{"domain", flow.domain()},
                      {"taskList", {{"name", activity.task_list()}}},
                      {"identity", "flow-test"}});
    if (!swf::HasTask(task)) return false;
    const std::string token = task.value("taskToken", "");
    const Json& execution = task.value("workflowExecution", Json::object());
    const int attempt = ++attempts[execution.value("runId", "") + "/" + task.value("activityId", "")];
    Context input = Json::parse(task.value("input", std::string("{}")), nullptr, false);
    if (!input.is_object()) input = Context::object();
    std::string failure;
    try {
      const Context result = fake(input, attempt);
      // Sent as it is, as the worker sends a task's result: one that is not a
      // JSON object is a failed attempt for the decider.
      Must(*service, "RespondActivityTaskCompleted",
           {{"taskToken", token}, {"result", result.dump()}});
      return true;
    } catch (const NonRetryable& e) {
      failure = std::string(kNonRetryablePrefix) + e.what();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    Must(*service, "RespondActivityTaskFailed",
         {{"taskToken", token}, {"reason", failure.substr(0, 255)}, {"details", failure}});
    return true;
  }

  // Handles one decision task or activity task if one is queued anywhere:
  // for each flow in turn, its decision task first, then its activities in
  // the flow's order.
  bool Step(std::vector<std::unique_ptr<Decider>>& deciders,
            std::vector<std::unique_ptr<ActivityWorker>>& workers) {
    // The engine's totals say whether any task is queued at all, so that an
    // idle step asks nothing per activity. (Deadlines first, as a call
    // would fire them: one may queue a task.)
    engine->FireDueTimers();
    const engine::Engine::Stats queued = engine->GetStats();
    if (queued.queued_decision_tasks == 0 && queued.queued_activity_tasks == 0) return false;
    for (std::size_t i = 0; i < flows.size(); ++i) {
      const Flow& f = *flows[i];
      if (queued.queued_decision_tasks > 0) {
        const Json count = Must(*engine, "CountPendingDecisionTasks",
                                {{"domain", f.domain()}, {"taskList", {{"name", f.task_list()}}}});
        if (count.value("count", 0) > 0) {
          Result<bool> handled = deciders[i]->PollOnce();
          if (!handled.ok()) {
            throw std::runtime_error("FlowTest: decider: " + handled.status().ToString());
          }
          return true;
        }
      }
      if (queued.queued_activity_tasks == 0) continue;
      // With a single task queued in all, the flow's order cannot matter:
      // the search starts at the activity whose task was found last (the
      // next one of a serial flow, a fan-out's own), so that a step does not
      // cost a call per activity of a flow of thousands.
      const auto& activities = f.activities();
      const std::size_t n = activities.size();
      const std::size_t first =
          queued.queued_activity_tasks == 1 && last_found[i] < n ? last_found[i] : 0;
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t at = (first + k) % n;
        const auto& a = activities[at];
        if (a->child()) continue;
        const Json pending =
            Must(*engine, "CountPendingActivityTasks",
                 {{"domain", f.domain()}, {"taskList", {{"name", a->task_list()}}}});
        if (pending.value("count", 0) == 0) continue;
        if (auto fake = fakes.find(a.get()); fake != fakes.end()) {
          if (RunFake(*a, fake->second)) {
            last_found[i] = at;
            return true;
          }
          continue;
        }
        if (a->external()) continue;  // nobody runs it: it waits for its timeout
        Result<bool> handled = workers[i]->PollOnce(*a);
        if (!handled.ok()) {
          throw std::runtime_error("FlowTest: worker: " + handled.status().ToString());
        }
        if (*handled) {
          last_found[i] = at;
          return true;
        }
      }
    }
    return false;
  }

  // The earliest time (epoch seconds) a timer of an open run fires.
  std::optional<double> NextTimer() {
    Json request = {{"domain", flow.domain()},
                    {"startTimeFilter", {{"oldestDate", 0}}},
                    {"maximumPageSize", 1000}};
    const Json open = Must(*engine, "ListOpenWorkflowExecutions", request);
    std::optional<double> next;
    for (const Json& info : open.value("executionInfos", Json::array())) {
      const Json& ex = info.at("execution");
      std::map<std::string, double> timers;
      for (const Json& e : History(ex.value("workflowId", ""), ex.value("runId", ""))) {
        const std::string type = e.value("eventType", "");
        const Json& a = EventAttributes(e);
        if (type == "TimerStarted") {
          timers[a.value("timerId", "")] =
              e.value("eventTimestamp", 0.0) + std::stod(a.value("startToFireTimeout", "0"));
        } else if (type == "TimerFired" || type == "TimerCanceled") {
          timers.erase(a.value("timerId", ""));
        }
      }
      for (const auto& [id, at] : timers) {
        if (!next || at < *next) next = at;
      }
    }
    return next;
  }
};

FlowTest::FlowTest(const Flow& flow) : impl_(std::make_unique<Impl>(flow)) {}
FlowTest::~FlowTest() = default;

engine::Engine& FlowTest::engine() { return *impl_->engine; }

FlowTest& FlowTest::Fake(const std::string& activity, FakeActivity fake) {
  const Activity* a = impl_->Find(activity);
  if (a == nullptr) throw std::invalid_argument("FlowTest::Fake: unknown activity " + activity);
  if (a->child()) {
    throw std::invalid_argument("FlowTest::Fake: " + activity +
                                " runs a child flow: fake the child's activities");
  }
  impl_->fakes[a] = std::move(fake);
  return *this;
}

FlowTest& FlowTest::Signal(std::string name, Context input, std::chrono::seconds after) {
  Impl::PendingEvent event;
  event.kind = Impl::PendingEvent::Kind::kSignal;
  event.name = std::move(name);
  event.input = std::move(input);
  event.after = after;
  impl_->Add(std::move(event));
  return *this;
}

FlowTest& FlowTest::Cancel(std::chrono::seconds after) {
  Impl::PendingEvent event;
  event.kind = Impl::PendingEvent::Kind::kCancel;
  event.after = after;
  impl_->Add(std::move(event));
  return *this;
}

RunResult FlowTest::Run(const Context& input) {
  Impl& s = *impl_;
  RunOptions options;
  options.input = input;
  options.workflow_id = kWorkflowId + std::string("-") + std::to_string(++s.runs);
  Result<RunSummary> started = StartFlow(s.flow, *s.engine, options);
  if (!started.ok()) throw std::runtime_error("FlowTest: start: " + started.status().ToString());
  const double start = ToEpochSeconds(s.clock->Now());

  std::vector<std::unique_ptr<Decider>> deciders;
  std::vector<std::unique_ptr<ActivityWorker>> workers;
  for (const Flow* f : s.flows) {
    DeciderOptions d;
    d.identity = "flow-test-decider";
    deciders.push_back(std::make_unique<Decider>(*f, *s.engine, d));
    WorkerOptions w;
    w.identity = "flow-test-worker";
    w.pollers = 1;
    workers.push_back(std::make_unique<ActivityWorker>(*f, *s.engine, w));
  }
  std::size_t next_event = 0;
  RunResult out;
  out.workflow_id = started->workflow_id;
  out.run_id = started->run_id;
  const Json describe = {{"domain", s.flow.domain()},
                         {"execution", {{"workflowId", out.workflow_id}, {"runId", out.run_id}}}};
  for (int steps = 0;; ++steps) {
    if (steps > 1000000) throw std::runtime_error("FlowTest: the run does not end");
    const double now = ToEpochSeconds(s.clock->Now());
    bool closed = Must(*s.engine, "DescribeWorkflowExecution", describe)["executionInfo"].value(
                      "executionStatus", "") == "CLOSED";
    while (!closed && next_event < s.to_send.size() &&
           start + static_cast<double>(s.to_send[next_event].after.count()) <= now + 1e-6) {
      const auto& event = s.to_send[next_event++];
      if (event.kind == Impl::PendingEvent::Kind::kCancel) {
        Must(*s.service, "RequestCancelWorkflowExecution",
             {{"domain", s.flow.domain()}, {"workflowId", out.workflow_id}, {"runId", out.run_id}});
        continue;
      }
      Must(*s.service, "SignalWorkflowExecution",
           {{"domain", s.flow.domain()},
            {"workflowId", out.workflow_id},
            {"runId", out.run_id},
            {"signalName", event.name},
            {"input", event.input.dump()}});
    }
    if (s.Step(deciders, workers)) continue;
    if (closed) break;
    // Nothing can happen now: jump to the next timer, signal or cancel request.
    std::optional<double> next = s.NextTimer();
    if (next_event < s.to_send.size()) {
      const double at = start + static_cast<double>(s.to_send[next_event].after.count());
      if (!next || at < *next) next = at;
    }
    if (!next) {
      out.close_status = "OPEN";
      out.waiting =
          "nothing can happen: the run waits for a signal the test did not send, an External "
          "activity without a fake, or a task that was never answered";
      break;
    }
    s.clock->AdvanceSeconds(std::max(0.0, *next - now));
  }
  const double end = ToEpochSeconds(s.clock->Now());
  out.elapsed = std::chrono::seconds(static_cast<std::int64_t>(std::llround(end - start)));
  out.history = s.History(out.workflow_id, out.run_id).get<std::vector<Json>>();
  if (out.close_status != "OPEN" && !out.history.empty()) {
    const Json& last = out.history.back();
    const std::string type = last.value("eventType", "");
    const Json& a = EventAttributes(last);
    if (type == "WorkflowExecutionCompleted") {
      out.close_status = "COMPLETED";
      out.result = Json::parse(a.value("result", std::string("null")), nullptr, false);
    } else if (type == "WorkflowExecutionFailed") {
      out.close_status = "FAILED";
      out.reason = a.value("reason", "");
      out.details = a.value("details", "");
    } else if (type == "WorkflowExecutionCanceled") {
      out.close_status = "CANCELED";
      out.details = a.value("details", "");
    } else if (type == "WorkflowExecutionTimedOut") {
      out.close_status = "TIMED_OUT";
    } else if (type == "WorkflowExecutionTerminated") {
      out.close_status = "TERMINATED";
      out.reason = a.value("reason", "");
    } else if (type == "WorkflowExecutionContinuedAsNew") {
      out.close_status = "CONTINUED_AS_NEW";
    }
  }
  return out;
}

}  // namespace garcon::testing
