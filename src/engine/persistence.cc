// Writing the engine's state through to its store, and loading it back.
// Format: docs/storage.md. Records: kind "domain" (key: name) holds a domain
// with its types and tags; kind "run" (key: runId) holds a run's state
// without its events; events go to the store's event log. Deadlines are
// stored by their time and re-armed on load, so one that passed while the
// engine was down fires at once.
#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/engine_impl.h"

namespace garcon::engine {
namespace {

// Times as integer microseconds since the epoch: exact round trips.
Json TimeJson(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

TimePoint TimeFrom(const Json& j) {
  return TimePoint(std::chrono::duration_cast<Duration>(
      std::chrono::microseconds(j.get<std::int64_t>())));
}

template <typename T>
void Put(Json& j, const char* key, const std::optional<T>& value) {
  if (value) j[key] = *value;
}

void Put(Json& j, const char* key, const std::optional<TimePoint>& value) {
  if (value) j[key] = TimeJson(*value);
}

template <typename T>
void Get(const Json& j, const char* key, std::optional<T>* out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) *out = it->get<T>();
}

void Get(const Json& j, const char* key, std::optional<TimePoint>* out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) *out = TimeFrom(*it);
}

template <typename T>
void Get(const Json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) *out = it->get<T>();
}

Json TypeKeyJson(const TypeKey& k) { return Json::array({k.first, k.second}); }
TypeKey TypeKeyFrom(const Json& j) { return {j.at(0).get<std::string>(), j.at(1).get<std::string>()}; }

Json QueueJson(const QueuePosition& q) { return Json::array({q.priority, q.seq}); }
QueuePosition QueueFrom(const Json& j) {
  QueuePosition q;
  if (j.is_array() && j.size() == 2) {
    q.priority = j[0].get<std::int64_t>();
    q.seq = j[1].get<std::uint64_t>();
  }
  return q;
}

// A type's optional text fields, by their key in the record.
template <typename T>
using TextFields = std::vector<std::pair<const char*, std::optional<std::string> T::*>>;

const TextFields<ActivityTypeState>& ActivityTypeFields() {
  static const TextFields<ActivityTypeState> kFields = {
      {"description", &ActivityTypeState::description},
      {"taskList", &ActivityTypeState::default_task_list},
      {"taskPriority", &ActivityTypeState::default_task_priority},
      {"startToClose", &ActivityTypeState::default_task_start_to_close_timeout},
      {"heartbeat", &ActivityTypeState::default_task_heartbeat_timeout},
      {"scheduleToStart", &ActivityTypeState::default_task_schedule_to_start_timeout},
      {"scheduleToClose", &ActivityTypeState::default_task_schedule_to_close_timeout}};
  return kFields;
}

const TextFields<WorkflowTypeState>& WorkflowTypeFields() {
  static const TextFields<WorkflowTypeState> kFields = {
      {"description", &WorkflowTypeState::description},
      {"taskList", &WorkflowTypeState::default_task_list},
      {"taskPriority", &WorkflowTypeState::default_task_priority},
      {"taskStartToClose", &WorkflowTypeState::default_task_start_to_close_timeout},
      {"executionStartToClose", &WorkflowTypeState::default_execution_start_to_close_timeout},
      {"childPolicy", &WorkflowTypeState::default_child_policy},
      {"lambdaRole", &WorkflowTypeState::default_lambda_role}};
  return kFields;
}

template <typename T>
Json TypeJson(const T& t, const TextFields<T>& fields) {
  Json j = {{"name", t.name}, {"version", t.version}, {"deprecated", t.deprecated},
            {"created", TimeJson(t.creation_date)}};
  Put(j, "deprecatedAt", t.deprecation_date);
  for (const auto& [key, member] : fields) Put(j, key, t.*member);
  return j;
}

template <typename T>
T TypeFrom(const Json& j, const TextFields<T>& fields) {
  T t;
  Get(j, "name", &t.name);
  Get(j, "version", &t.version);
  Get(j, "deprecated", &t.deprecated);
  t.creation_date = TimeFrom(j.at("created"));
  Get(j, "deprecatedAt", &t.deprecation_date);
  for (const auto& [key, member] : fields) Get(j, key, &(t.*member));
  return t;
}

}  // namespace

void EngineImpl::MarkRunDirty(const RunState& run) {
  if (store_) dirty_runs_.insert(run.run_id);
}

Json EngineImpl::DeadlineJson(DeadlineId id) const {
  const Deadline* d = id == 0 ? nullptr : timers_.Find(id);
  if (d == nullptr) return nullptr;
  Json j = {{"when", TimeJson(d->when)}, {"kind", static_cast<int>(d->kind)}};
  if (d->event_id != 0) j["event"] = d->event_id;
  if (!d->name.empty()) j["name"] = d->name;
  return j;
}

DeadlineId EngineImpl::RestoreDeadline(const Json& json, const std::string& run_id) {
  if (!json.is_object()) return 0;
  Deadline d;
  d.when = TimeFrom(json.at("when"));
  d.kind = static_cast<DeadlineKind>(json.at("kind").get<int>());
  d.run_id = run_id;
  Get(json, "event", &d.event_id);
  Get(json, "name", &d.name);
  return AddDeadline(std::move(d));
}

Json EngineImpl::DomainJson(const DomainState& domain) const {
  Json j = {{"name", domain.name},
            {"retention", domain.retention_days},
            {"deprecated", domain.deprecated},
            {"tags", Json::array()},
            {"activityTypes", Json::array()},
            {"workflowTypes", Json::array()}};
  Put(j, "description", domain.description);
  for (const auto& [key, value] : domain.tags) j["tags"].push_back({key, value});
  for (const auto& [key, type] : domain.activity_types) {
    j["activityTypes"].push_back(TypeJson(type, ActivityTypeFields()));
  }
  for (const auto& [key, type] : domain.workflow_types) {
    j["workflowTypes"].push_back(TypeJson(type, WorkflowTypeFields()));
  }
  return j;
}

Json EngineImpl::RunJson(const RunState& run) const {
  Json j = {{"domain", run.domain},
            {"workflowId", run.workflow_id},
            {"runId", run.run_id},
            {"type", TypeKeyJson(run.type)},
            {"taskList", run.task_list},
            {"executionTimeout", run.execution_start_to_close_timeout},
            {"taskTimeout", run.task_start_to_close_timeout},
            {"childPolicy", run.child_policy},
            {"tags", run.tags},
            {"start", TimeJson(run.start_time)},
            {"startSeq", run.start_seq},
            {"open", run.open},
            {"closeStatus", run.close_status},
            {"cancelRequested", run.cancel_requested},
            {"overEventLimit", run.over_event_limit},
            {"events", run.events.size()},
            {"previousStarted", run.previous_started_event_id},
            {"executionDeadline", DeadlineJson(run.execution_deadline)}};
  Put(j, "taskPriority", run.task_priority);
  Put(j, "lambdaRole", run.lambda_role);
  if (run.parent) {
    j["parent"] = {run.parent->workflow_id, run.parent->run_id, run.parent->initiated_event_id};
  }
  Put(j, "close", run.close_time);
  Put(j, "decisionTaskListOverride", run.decision_task_list_override);
  Put(j, "decisionTaskListTimeout", run.decision_task_list_timeout);
  Put(j, "latestActivity", run.latest_activity_task_timestamp);
  Put(j, "latestContext", run.latest_execution_context);

  const DecisionTaskState& d = run.decision;
  j["decision"] = {{"scheduled", d.scheduled_event_id},
                   {"started", d.started_event_id},
                   {"pending", d.pending},
                   {"secret", d.token_secret},
                   {"taskList", d.task_list},
                   {"queued", QueueJson(d.queued)},
                   {"scheduleToStart", DeadlineJson(d.schedule_to_start_deadline)},
                   {"startToClose", DeadlineJson(d.start_to_close_deadline)}};
  Json activities = Json::array();
  for (const auto& [scheduled, a] : run.activities) {
    Json aj = {{"scheduled", a.scheduled_event_id},
               {"started", a.started_event_id},
               {"activityId", a.activity_id},
               {"type", TypeKeyJson(a.type)},
               {"taskList", a.task_list},
               {"priority", a.priority},
               {"scheduleToStartTimeout", a.schedule_to_start_timeout},
               {"scheduleToCloseTimeout", a.schedule_to_close_timeout},
               {"startToCloseTimeout", a.start_to_close_timeout},
               {"heartbeatTimeout", a.heartbeat_timeout},
               {"cancelRequested", a.cancel_requested},
               {"cancelRequestedEvent", a.latest_cancel_requested_event_id},
               {"secret", a.token_secret},
               {"queued", QueueJson(a.queued)},
               {"scheduleToStart", DeadlineJson(a.schedule_to_start_deadline)},
               {"scheduleToClose", DeadlineJson(a.schedule_to_close_deadline)},
               {"startToClose", DeadlineJson(a.start_to_close_deadline)},
               {"heartbeat", DeadlineJson(a.heartbeat_deadline)}};
    Put(aj, "input", a.input);
    Put(aj, "identity", a.identity);
    Put(aj, "details", a.heartbeat_details);
    activities.push_back(std::move(aj));
  }
  j["activities"] = std::move(activities);
  Json timers = Json::array();
  for (const auto& [id, t] : run.timers) {
    timers.push_back({{"timerId", t.timer_id},
                      {"started", t.started_event_id},
                      {"deadline", DeadlineJson(t.deadline)}});
  }
  j["timers"] = std::move(timers);
  Json children = Json::array();
  for (const auto& [initiated, c] : run.children) {
    children.push_back({{"initiated", c.initiated_event_id},
                        {"started", c.started_event_id},
                        {"workflowId", c.workflow_id},
                        {"runId", c.run_id},
                        {"type", TypeKeyJson(c.type)}});
  }
  j["children"] = std::move(children);
  return j;
}

Status EngineImpl::PersistLocked() {
  store::Batch batch;
  if (domains_dirty_) {
    // Domains change rarely (registration); each is written whole.
    for (const auto& [name, domain] : domains_) {
      batch.puts.push_back({"domain", name, DomainJson(domain).dump()});
    }
    domains_dirty_ = false;
  }
  std::vector<std::pair<RunState*, std::size_t>> advanced;
  for (const auto& run_id : dirty_runs_) {
    RunState* run = FindRun(run_id);
    if (run == nullptr) continue;
    batch.puts.push_back({"run", run_id, RunJson(*run).dump()});
    for (std::size_t i = run->persisted_events; i < run->events.size(); ++i) {
      batch.events.push_back(
          {run_id, static_cast<std::int64_t>(i + 1),
           run->events[i].dump(-1, ' ', false, Json::error_handler_t::replace)});
    }
    advanced.emplace_back(run, run->events.size());
  }
  dirty_runs_.clear();
  for (const auto& run_id : purged_runs_) {
    batch.deletes.push_back({"run", run_id});
    batch.purged_runs.push_back(run_id);
  }
  purged_runs_.clear();
  if (batch.empty()) return Status::Ok();
  const auto started = std::chrono::steady_clock::now();
  Status status = store_->Apply(batch);
  ++store_commits_;
  store_commit_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!status.ok()) {
    return InternalError("the store failed; restart the engine: " + status.message());
  }
  for (auto& [run, count] : advanced) run->persisted_events = count;
  return Status::Ok();
}

Status EngineImpl::LoadLocked() {
  try {
    ASSIGN_OR_RETURN(auto domains, store_->Load("domain"));
    for (const auto& [name, text] : domains) {
      const Json j = Json::parse(text);
      DomainState d;
      d.name = j.at("name").get<std::string>();
      Get(j, "description", &d.description);
      Get(j, "retention", &d.retention_days);
      Get(j, "deprecated", &d.deprecated);
      for (const auto& tag : j.at("tags")) {
        d.tags.emplace_back(tag.at(0).get<std::string>(), tag.at(1).get<std::string>());
      }
      for (const auto& t : j.at("activityTypes")) {
        auto type = TypeFrom(t, ActivityTypeFields());
        d.activity_types.emplace(TypeKey{type.name, type.version}, std::move(type));
      }
      for (const auto& t : j.at("workflowTypes")) {
        auto type = TypeFrom(t, WorkflowTypeFields());
        d.workflow_types.emplace(TypeKey{type.name, type.version}, std::move(type));
      }
      domains_.emplace(d.name, std::move(d));
    }

    ASSIGN_OR_RETURN(auto runs, store_->Load("run"));
    // Queued tasks across runs, re-queued in their original order.
    struct Requeue {
      std::uint64_t seq;
      TaskKind kind;
      std::string key;
      std::int64_t priority;
      QueuedTask task;
      QueuePosition* position;
    };
    std::vector<Requeue> requeue;
    std::vector<RunState*> loaded;
    for (const auto& [run_id, text] : runs) {
      const Json j = Json::parse(text);
      RunState r;
      Get(j, "domain", &r.domain);
      Get(j, "workflowId", &r.workflow_id);
      r.run_id = run_id;
      r.type = TypeKeyFrom(j.at("type"));
      Get(j, "taskList", &r.task_list);
      Get(j, "executionTimeout", &r.execution_start_to_close_timeout);
      Get(j, "taskTimeout", &r.task_start_to_close_timeout);
      Get(j, "childPolicy", &r.child_policy);
      Get(j, "tags", &r.tags);
      r.start_time = TimeFrom(j.at("start"));
      Get(j, "startSeq", &r.start_seq);
      Get(j, "open", &r.open);
      Get(j, "closeStatus", &r.close_status);
      Get(j, "cancelRequested", &r.cancel_requested);
      Get(j, "overEventLimit", &r.over_event_limit);
      Get(j, "previousStarted", &r.previous_started_event_id);
      Get(j, "taskPriority", &r.task_priority);
      Get(j, "lambdaRole", &r.lambda_role);
      if (auto p = j.find("parent"); p != j.end()) {
        r.parent = ParentRef{p->at(0).get<std::string>(), p->at(1).get<std::string>(),
                             p->at(2).get<EventId>()};
      }
      Get(j, "close", &r.close_time);
      Get(j, "decisionTaskListOverride", &r.decision_task_list_override);
      Get(j, "decisionTaskListTimeout", &r.decision_task_list_timeout);
      Get(j, "latestActivity", &r.latest_activity_task_timestamp);
      Get(j, "latestContext", &r.latest_execution_context);

      // Events: exactly the count the record names (a crash between writes
      // cannot happen: record and events are one transaction).
      const auto count = j.at("events").get<std::int64_t>();
      ASSIGN_OR_RETURN(auto bodies, store_->ReadEvents(run_id, 1, count));
      if (static_cast<std::int64_t>(bodies.size()) != count) {
        return InternalError("store: run " + run_id + " has " + std::to_string(bodies.size()) +
                             " events, its record says " + std::to_string(count));
      }
      r.events.reserve(bodies.size());
      for (const auto& body : bodies) r.events.push_back(Json::parse(body));
      r.persisted_events = r.events.size();
      run_seq_ = std::max(run_seq_, r.start_seq);

      auto [it, inserted] = runs_.emplace(run_id, std::move(r));
      RunState& run = it->second;
      loaded.push_back(&run);
      if (run.open) ++open_runs_;
      run.execution_deadline = RestoreDeadline(j.at("executionDeadline"), run_id);

      const Json& d = j.at("decision");
      DecisionTaskState& decision = run.decision;
      Get(d, "scheduled", &decision.scheduled_event_id);
      Get(d, "started", &decision.started_event_id);
      Get(d, "pending", &decision.pending);
      Get(d, "secret", &decision.token_secret);
      Get(d, "taskList", &decision.task_list);
      decision.schedule_to_start_deadline = RestoreDeadline(d.at("scheduleToStart"), run_id);
      decision.start_to_close_deadline = RestoreDeadline(d.at("startToClose"), run_id);
      const QueuePosition dq = QueueFrom(d.at("queued"));
      if (dq.seq != 0) {
        requeue.push_back({dq.seq, TaskKind::kDecision, QueueKey(run.domain, decision.task_list),
                           dq.priority, QueuedTask{run_id, decision.scheduled_event_id},
                           &decision.queued});
      }

      for (const auto& aj : j.at("activities")) {
        ActivityTaskState a;
        Get(aj, "scheduled", &a.scheduled_event_id);
        Get(aj, "started", &a.started_event_id);
        Get(aj, "activityId", &a.activity_id);
        a.type = TypeKeyFrom(aj.at("type"));
        Get(aj, "taskList", &a.task_list);
        Get(aj, "priority", &a.priority);
        Get(aj, "scheduleToStartTimeout", &a.schedule_to_start_timeout);
        Get(aj, "scheduleToCloseTimeout", &a.schedule_to_close_timeout);
        Get(aj, "startToCloseTimeout", &a.start_to_close_timeout);
        Get(aj, "heartbeatTimeout", &a.heartbeat_timeout);
        Get(aj, "cancelRequested", &a.cancel_requested);
        Get(aj, "cancelRequestedEvent", &a.latest_cancel_requested_event_id);
        Get(aj, "secret", &a.token_secret);
        Get(aj, "input", &a.input);
        Get(aj, "identity", &a.identity);
        Get(aj, "details", &a.heartbeat_details);
        ActivityTaskState& stored =
            run.activities.emplace(a.scheduled_event_id, std::move(a)).first->second;
        run.activity_ids[stored.activity_id] = stored.scheduled_event_id;
        stored.schedule_to_start_deadline = RestoreDeadline(aj.at("scheduleToStart"), run_id);
        stored.schedule_to_close_deadline = RestoreDeadline(aj.at("scheduleToClose"), run_id);
        stored.start_to_close_deadline = RestoreDeadline(aj.at("startToClose"), run_id);
        stored.heartbeat_deadline = RestoreDeadline(aj.at("heartbeat"), run_id);
        const QueuePosition aq = QueueFrom(aj.at("queued"));
        if (aq.seq != 0) {
          requeue.push_back({aq.seq, TaskKind::kActivity, QueueKey(run.domain, stored.task_list),
                             aq.priority, QueuedTask{run_id, stored.scheduled_event_id},
                             &stored.queued});
        }
      }
      for (const auto& tj : j.at("timers")) {
        TimerState t;
        Get(tj, "timerId", &t.timer_id);
        Get(tj, "started", &t.started_event_id);
        TimerState& stored = run.timers.emplace(t.timer_id, std::move(t)).first->second;
        stored.deadline = RestoreDeadline(tj.at("deadline"), run_id);
      }
      for (const auto& cj : j.at("children")) {
        ChildState c;
        Get(cj, "initiated", &c.initiated_event_id);
        Get(cj, "started", &c.started_event_id);
        Get(cj, "workflowId", &c.workflow_id);
        Get(cj, "runId", &c.run_id);
        c.type = TypeKeyFrom(cj.at("type"));
        run.children.emplace(c.initiated_event_id, std::move(c));
      }
    }

    // Domain indexes, in start order.
    std::sort(loaded.begin(), loaded.end(),
              [](const RunState* a, const RunState* b) { return a->start_seq < b->start_seq; });
    for (RunState* run : loaded) {
      auto d = domains_.find(run->domain);
      if (d == domains_.end()) {
        return InternalError("store: run " + run->run_id + " names unknown domain " +
                             run->domain);
      }
      d->second.run_ids.push_back(run->run_id);
      d->second.run_ids_by_workflow_id[run->workflow_id].push_back(run->run_id);
      if (run->open) {
        d->second.open_run_by_workflow_id[run->workflow_id] = run->run_id;
        d->second.open_by_start.emplace(run->start_seq, run->run_id);
      } else {
        d->second.closed_by_start.emplace(std::make_pair(run->start_time, run->start_seq),
                                          run->run_id);
        d->second.closed_by_close.emplace(
            std::make_pair(run->close_time.value_or(run->start_time), run->start_seq),
            run->run_id);
        ArmRetention(*run);  // one that passed while down purges at once
      }
    }
    std::sort(requeue.begin(), requeue.end(),
              [](const Requeue& a, const Requeue& b) { return a.seq < b.seq; });
    for (auto& r : requeue) EnqueueTask(r.kind, r.key, r.priority, r.task, r.position);
  } catch (const std::exception& e) {
    return InternalError(std::string("store: a record does not parse: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace garcon::engine
