// The engine's side of the journal: what an operation changed, as a batch of
// small rows; loading open runs back; durability of answers; retention.
// Format: docs/storage.md. A domain is one record with its types and tags; a
// run is one row (visibility columns and its own state as JSON), one part
// per open activity, timer and child and one for its latest execution
// context, and its events. Deadlines are stored by their time and re-armed
// on load, so one that passed while the engine was down fires at once.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/json_text.h"
#include "base/status_macros.h"
#include "engine/durations.h"
#include "engine/engine_impl.h"

namespace garcon::engine {
namespace {

// Times as integer microseconds since the epoch: exact round trips.
Json TimeJson(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// A record that cannot have been written by this engine: the engine refuses
// to load it (a clear error) rather than convert garbage into undefined
// behaviour.
[[noreturn]] void Corrupt(const std::string& what) {
  throw std::runtime_error("corrupt store record: " + what);
}

// Numbers read back are checked: a double or an out-of-range integer where an
// integer is expected would otherwise be a conversion with undefined
// behaviour.
template <typename T>
T Checked(const Json& j) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) Corrupt("expected a boolean, got " + std::string(j.type_name()));
    return j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (j.is_number_unsigned()) {
      const auto v = j.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) Corrupt("integer too large");
      return static_cast<T>(v);
    }
    if (j.is_number_integer()) {
      const auto v = j.get<std::int64_t>();
      if constexpr (std::is_unsigned_v<T>) {
        if (v < 0) Corrupt("negative integer");
        if (static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) Corrupt("integer too large");
      } else {
        if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
          Corrupt("integer out of range");
        }
      }
      return static_cast<T>(v);
    }
    Corrupt("expected an integer, got " + std::string(j.type_name()));
  } else {
    return j.get<T>();
  }
}

// About 140 years either side of 1970: the clock's nanoseconds hold 292.
constexpr std::int64_t kMaxMicros = std::int64_t{4'400'000'000'000'000};

TimePoint TimeFrom(const Json& j) {
  const auto micros = Checked<std::int64_t>(j);
  if (micros > kMaxMicros || micros < -kMaxMicros) Corrupt("time out of range");
  return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::microseconds(micros)));
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
  if (it != j.end() && !it->is_null()) *out = Checked<T>(*it);
}

void Get(const Json& j, const char* key, std::optional<TimePoint>* out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) *out = TimeFrom(*it);
}

template <typename T>
void Get(const Json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) *out = Checked<T>(*it);
}

Json TypeKeyJson(const TypeKey& k) { return Json::array({k.first, k.second}); }
TypeKey TypeKeyFrom(const Json& j) { return {j.at(0).get<std::string>(), j.at(1).get<std::string>()}; }

QueuePosition QueueFrom(const Json& j) {
  QueuePosition q;
  if (j.is_array() && j.size() == 2) {
    q.priority = Checked<std::int64_t>(j[0]);
    q.seq = Checked<std::uint64_t>(j[1]);
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

// Writes a JSON object straight into a string, without building a Json
// tree first: a call's state rows are written on every call, and building
// then dumping a tree costs several times the text it produces. Reads go
// through Json::parse as before; the text is the same JSON.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  void Close() { out_->push_back('}'); }

  void Key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(key);  // keys are literals of this file: nothing to escape
    out_->append("\":");
  }
  void Field(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  void Field(std::string_view key, const std::string& value) { Field(key, std::string_view(value)); }
  void Field(std::string_view key, const char* value) { Field(key, std::string_view(value)); }
  void Field(std::string_view key, bool value) {
    Key(key);
    out_->append(value ? "true" : "false");
  }
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
  void Field(std::string_view key, T value) {
    Key(key);
    Number(value);
  }
  void Field(std::string_view key, const std::optional<std::string>& value) {
    if (value) Field(key, *value);
  }
  void Field(std::string_view key, const std::optional<TimePoint>& value) {
    if (value) Field(key, Micros(*value));
  }
  void Queue(std::string_view key, const QueuePosition& q) { Array(key, q.priority, q.seq); }
  // `"key":[v1,v2,...]` of strings and integers.
  template <typename... V>
  void Array(std::string_view key, const V&... values) {
    Key(key);
    out_->push_back('[');
    bool first = true;
    ((first ? void(first = false) : out_->push_back(','), Value(values)), ...);
    out_->push_back(']');
  }

  // Appends `value` as a JSON string. Printable ASCII goes as it is;
  // anything else through Json, which escapes it and replaces invalid
  // UTF-8, as Dump does.
  void String(std::string_view value) {
    bool plain = true;
    for (char c : value) {
      if (c < 0x20 || c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) {
        plain = false;
        break;
      }
    }
    if (plain) {
      out_->push_back('"');
      out_->append(value);
      out_->push_back('"');
    } else {
      out_->append(Json(std::string(value)).dump(-1, ' ', false, Json::error_handler_t::replace));
    }
  }
  void Value(std::string_view value) { String(value); }
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
  void Value(T value) {
    Number(value);
  }
  template <typename T>
  void Number(T value) {
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    (void)ec;
    out_->append(buffer, end);
  }
  std::string* out() { return out_; }

  static std::int64_t Micros(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }

 private:
  std::string* out_;
  bool first_ = true;
};

// A deadline as RestoreDeadline reads it: null, or {when, kind, event, name}.
void DeadlineField(ObjectWriter& w, std::string_view key, const Deadline* d) {
  w.Key(key);
  if (d == nullptr) {
    w.out()->append("null");
    return;
  }
  ObjectWriter dw(w.out());
  dw.Field("when", ObjectWriter::Micros(d->when));
  dw.Field("kind", static_cast<int>(d->kind));
  if (d->event_id != 0) dw.Field("event", d->event_id);
  if (!d->name.empty()) dw.Field("name", d->name);
  dw.Close();
}

}  // namespace


// --- what changed ---------------------------------------------------------------

EngineImpl::RunDirty& EngineImpl::Dirty(const RunState& run) { return dirty_[run.run_id]; }

void EngineImpl::TouchActivity(const RunState& run, EventId scheduled_event_id) {
  if (journal_all_) Dirty(run).activities.insert(scheduled_event_id);
}

void EngineImpl::TouchTimer(const RunState& run, const std::string& timer_id) {
  if (journal_all_) Dirty(run).timers.insert(timer_id);
}

void EngineImpl::TouchChild(const RunState& run, EventId initiated_event_id) {
  if (journal_all_) Dirty(run).children.insert(initiated_event_id);
}

const Deadline* EngineImpl::FindDeadline(DeadlineId id) const {
  return id == 0 ? nullptr : timers_.Find(id);
}

DeadlineId EngineImpl::RestoreDeadline(const Json& json, const std::string& run_id) {
  if (!json.is_object()) return 0;
  Deadline d;
  d.when = TimeFrom(json.at("when"));
  const int kind = Checked<int>(json.at("kind"));
  if (kind < 0 || kind > static_cast<int>(DeadlineKind::kRetention)) Corrupt("deadline kind");
  d.kind = static_cast<DeadlineKind>(kind);
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

store::RunRecord EngineImpl::RunRecordOf(const RunState& run) const {
  store::RunRecord r;
  r.run_id = run.run_id;
  r.domain = run.domain;
  r.workflow_id = run.workflow_id;
  r.type_name = run.type.first;
  r.type_version = run.type.second;
  r.start_us = ObjectWriter::Micros(run.start_time);
  r.start_seq = run.start_seq;
  r.open = run.open;
  if (!run.open) {
    r.close_us = ObjectWriter::Micros(run.close_time.value_or(run.start_time));
    r.close_status = run.close_status;
  }
  r.tags = JsonText(Json(run.tags));
  r.state = RunStateText(run);
  return r;
}

std::string EngineImpl::RunStateText(const RunState& run) const {
  std::string out;
  out.reserve(512);
  ObjectWriter w(&out);
  w.Field("taskList", run.task_list);
  w.Field("executionTimeout", run.execution_start_to_close_timeout);
  w.Field("taskTimeout", run.task_start_to_close_timeout);
  w.Field("childPolicy", run.child_policy);
  w.Field("cancelRequested", run.cancel_requested);
  w.Field("overEventLimit", run.over_event_limit);
  w.Field("events", run.events.size());
  w.Field("previousStarted", run.previous_started_event_id);
  DeadlineField(w, "executionDeadline", FindDeadline(run.execution_deadline));
  w.Field("taskPriority", run.task_priority);
  w.Field("lambdaRole", run.lambda_role);
  if (run.parent) {
    w.Array("parent", run.parent->workflow_id, run.parent->run_id, run.parent->initiated_event_id);
  }
  w.Field("decisionTaskListOverride", run.decision_task_list_override);
  w.Field("decisionTaskListTimeout", run.decision_task_list_timeout);
  w.Field("latestActivity", run.latest_activity_task_timestamp);
  // An open run's context is a part of its own (written when it changes);
  // a closed run keeps it in its row.
  if (!run.open) w.Field("latestContext", run.latest_execution_context);
  if (run.open) {
    const DecisionTaskState& d = run.decision;
    w.Key("decision");
    ObjectWriter dw(&out);
    dw.Field("scheduled", d.scheduled_event_id);
    dw.Field("started", d.started_event_id);
    dw.Field("pending", d.pending);
    dw.Field("secret", d.token_secret);
    dw.Field("taskList", d.task_list);
    dw.Queue("queued", d.queued);
    DeadlineField(dw, "scheduleToStart", FindDeadline(d.schedule_to_start_deadline));
    DeadlineField(dw, "startToClose", FindDeadline(d.start_to_close_deadline));
    dw.Close();
  }
  w.Close();
  return out;
}

RunState RunFromRecord(const store::RunRecord& record) {
  const Json j = Json::parse(record.state);
  RunState r;
  r.run_id = record.run_id;
  r.domain = record.domain;
  r.workflow_id = record.workflow_id;
  r.type = {record.type_name, record.type_version};
  r.start_time = TimeFrom(Json(record.start_us));
  r.start_seq = record.start_seq;
  r.open = record.open;
  if (!record.open) {
    r.close_time = TimeFrom(Json(record.close_us));
    r.close_status = record.close_status;
  }
  r.tags = Json::parse(record.tags).get<std::vector<std::string>>();
  Get(j, "taskList", &r.task_list);
  Get(j, "executionTimeout", &r.execution_start_to_close_timeout);
  Get(j, "taskTimeout", &r.task_start_to_close_timeout);
  Get(j, "childPolicy", &r.child_policy);
  Get(j, "cancelRequested", &r.cancel_requested);
  Get(j, "overEventLimit", &r.over_event_limit);
  Get(j, "previousStarted", &r.previous_started_event_id);
  Get(j, "taskPriority", &r.task_priority);
  Get(j, "lambdaRole", &r.lambda_role);
  if (auto p = j.find("parent"); p != j.end()) {
    r.parent = ParentRef{p->at(0).get<std::string>(), p->at(1).get<std::string>(),
                         Checked<EventId>(p->at(2))};
  }
  Get(j, "decisionTaskListOverride", &r.decision_task_list_override);
  Get(j, "decisionTaskListTimeout", &r.decision_task_list_timeout);
  Get(j, "latestActivity", &r.latest_activity_task_timestamp);
  Get(j, "latestContext", &r.latest_execution_context);
  return r;
}

std::int64_t StoredEventCount(const store::RunRecord& record) {
  const Json j = Json::parse(record.state);
  std::int64_t events = 0;
  Get(j, "events", &events);
  if (events < 0) Corrupt("negative event count");
  return events;
}

std::string EngineImpl::ActivityText(const ActivityTaskState& a) const {
  std::string out;
  out.reserve(512);
  ObjectWriter w(&out);
  w.Field("scheduled", a.scheduled_event_id);
  w.Field("started", a.started_event_id);
  w.Field("activityId", a.activity_id);
  w.Array("type", a.type.first, a.type.second);
  w.Field("taskList", a.task_list);
  w.Field("priority", a.priority);
  w.Field("scheduleToStartTimeout", a.schedule_to_start_timeout);
  w.Field("scheduleToCloseTimeout", a.schedule_to_close_timeout);
  w.Field("startToCloseTimeout", a.start_to_close_timeout);
  w.Field("heartbeatTimeout", a.heartbeat_timeout);
  w.Field("cancelRequested", a.cancel_requested);
  w.Field("cancelRequestedEvent", a.latest_cancel_requested_event_id);
  w.Field("secret", a.token_secret);
  w.Queue("queued", a.queued);
  DeadlineField(w, "scheduleToStart", FindDeadline(a.schedule_to_start_deadline));
  DeadlineField(w, "scheduleToClose", FindDeadline(a.schedule_to_close_deadline));
  DeadlineField(w, "startToClose", FindDeadline(a.start_to_close_deadline));
  DeadlineField(w, "heartbeat", FindDeadline(a.heartbeat_deadline));
  w.Field("input", a.input);
  w.Field("identity", a.identity);
  w.Field("details", a.heartbeat_details);
  w.Close();
  return out;
}

namespace {

// What Json::dump writes (invalid UTF-8 replaced), faster: events are
// written on every close (docs/benchmarks.md).
std::string Dump(const Json& j) { return JsonText(j); }

}  // namespace

void EngineImpl::PersistLocked() {
  if (!store_status_.ok()) {
    dirty_.clear();
    closed_now_.clear();
    pending_payloads_.clear();
    return;
  }
  store::Batch batch;
  if (domains_dirty_ && journal_all_) {
    // Domains change rarely (registration); each is written whole.
    for (const auto& [name, domain] : domains_) batch.domains.emplace_back(name, Dump(DomainJson(domain)));
  }
  domains_dirty_ = false;
  std::vector<std::pair<RunState*, std::size_t>> advanced;
  for (auto& [run_id, dirty] : dirty_) {
    RunState* run = FindRun(run_id);
    if (run == nullptr) continue;
    // Without a user store only closed runs are kept, whole, at their close.
    if (!journal_all_ && run->open) continue;
    // A stored open run changes its state only; a new or closing one its
    // visibility columns too.
    if (run->open && run->persisted_events > 0) {
      batch.run_states.emplace_back(run_id, RunStateText(*run));
    } else {
      batch.runs.push_back(RunRecordOf(*run));
    }
    for (std::size_t i = run->persisted_events; i < run->events.size(); ++i) {
      batch.events.push_back(
          {run_id, static_cast<std::int64_t>(i + 1), Dump(run->events[i])});
    }
    advanced.emplace_back(run, run->events.size());
    if (!journal_all_) continue;
    if (!run->open) {
      batch.cleared_runs.push_back(run_id);
      continue;
    }
    for (EventId id : dirty.activities) {
      const std::string key = std::to_string(id);
      auto it = run->activities.find(id);
      if (it == run->activities.end()) {
        batch.removed_parts.push_back({run_id, store::PartKind::kActivity, key});
      } else {
        batch.parts.push_back({run_id, store::PartKind::kActivity, key, ActivityText(it->second)});
      }
    }
    for (const std::string& id : dirty.timers) {
      auto it = run->timers.find(id);
      if (it == run->timers.end()) {
        batch.removed_parts.push_back({run_id, store::PartKind::kTimer, id});
      } else {
        const TimerState& t = it->second;
        std::string text;
        ObjectWriter w(&text);
        w.Field("timerId", t.timer_id);
        w.Field("started", t.started_event_id);
        DeadlineField(w, "deadline", FindDeadline(t.deadline));
        w.Close();
        batch.parts.push_back({run_id, store::PartKind::kTimer, id, std::move(text)});
      }
    }
    for (EventId id : dirty.children) {
      const std::string key = std::to_string(id);
      auto it = run->children.find(id);
      if (it == run->children.end()) {
        batch.removed_parts.push_back({run_id, store::PartKind::kChild, key});
      } else {
        const ChildState& c = it->second;
        batch.parts.push_back({run_id, store::PartKind::kChild, key,
                               Dump(Object("initiated", c.initiated_event_id,
                                           "started", c.started_event_id,
                                           "workflowId", c.workflow_id,
                                           "runId", c.run_id,
                                           "type", TypeKeyJson(c.type)))});
      }
    }
    if (dirty.context && run->latest_execution_context) {
      batch.parts.push_back({run_id, store::PartKind::kContext, "",
                             Dump(Json(*run->latest_execution_context))});
    }
  }
  dirty_.clear();
  batch.payloads = std::move(pending_payloads_);
  pending_payloads_.clear();
  if (batch.empty()) {
    closed_now_.clear();
    return;
  }
  Status applied;
  const std::uint64_t seq = journal_->Submit(std::move(batch), &applied);
  if (!journal_->async()) {
    std::lock_guard<std::mutex> held(held_mu_);
    if (!applied.ok()) {
      store_status_ = InternalError("the store failed; restart the engine: " + applied.message());
      if (journal_failure_.ok()) journal_failure_ = store_status_;
    }
    durable_seq_ = seq;
  }
  for (auto& [run, count] : advanced) run->persisted_events = count;
  for (auto& run_id : closed_now_) closing_.emplace_back(seq, std::move(run_id));
  closed_now_.clear();
}

// --- durability of answers ------------------------------------------------------------

void EngineImpl::OnDurable(std::uint64_t seq, const Status& status) {
  std::vector<Completion> ready;
  {
    // Not the engine's lock: operations go on while answers are released.
    std::lock_guard<std::mutex> lock(held_mu_);
    if (!status.ok() && journal_failure_.ok()) {
      journal_failure_ = InternalError("the store failed; restart the engine: " + status.message());
    }
    durable_seq_ = std::max(durable_seq_, seq);
    ReleaseHeldLocked(&ready);
  }
  for (auto& completion : ready) completion.done(std::move(completion.result));
}

void EngineImpl::HoldAndRelease(std::uint64_t seq, std::vector<Completion>* completions,
                                std::vector<Completion>* ready) {
  std::lock_guard<std::mutex> lock(held_mu_);
  for (auto& completion : *completions) {
    if (completion.empty_poll) {
      ready->push_back(std::move(completion));
    } else {
      held_.emplace_back(seq, std::move(completion));
    }
  }
  completions->clear();
  ReleaseHeldLocked(ready);
}

void EngineImpl::ReleaseHeldLocked(std::vector<Completion>* ready) {
  while (!held_.empty() && held_.front().first <= durable_seq_) {
    Completion completion = std::move(held_.front().second);
    held_.pop_front();
    // Nothing is acknowledged that the store does not hold.
    if (!journal_failure_.ok() && completion.result.ok()) completion.result = journal_failure_;
    ready->push_back(std::move(completion));
  }
}

void EngineImpl::SyncJournalLocked() {
  std::uint64_t durable = 0;
  {
    std::lock_guard<std::mutex> lock(held_mu_);
    if (!journal_failure_.ok() && store_status_.ok()) store_status_ = journal_failure_;
    durable = durable_seq_;
  }
  if (!store_status_.ok()) return;  // closed runs stay: the store may not have them
  while (!closing_.empty() && closing_.front().first <= durable) {
    auto it = runs_.find(closing_.front().second);
    if (it != runs_.end() && !it->second.open) RememberClosed(runs_.extract(it));
    closing_.pop_front();
  }
}

bool EngineImpl::PastRetention(const RunState& run) {
  const DomainState* domain = FindDomain(run.domain);
  // The sweep purges runs closed at or before now minus the retention.
  return domain == nullptr || !run.close_time || *run.close_time + domain->Retention() <= now_;
}

void EngineImpl::RememberClosed(RunNode node) {
  RunState& run = node.mapped();
  if (PastRetention(run)) {
    spare_run_ = std::move(node);
    return;
  }
  // What the store's row holds: a closed run has no open tasks, timers or
  // children (CloseRun), and its events are not needed to describe it.
  run.events.clear();
  run.events.shrink_to_fit();
  // The row's times are whole microseconds: answer as a read of it would.
  auto micros = [](TimePoint t) {
    return TimePoint(std::chrono::duration_cast<Duration>(
        std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch())));
  };
  run.start_time = micros(run.start_time);
  run.close_time = micros(*run.close_time);
  if (run.latest_activity_task_timestamp) {
    run.latest_activity_task_timestamp = micros(*run.latest_activity_task_timestamp);
  }
  if (recent_closed_order_.size() >= kRecentClosed) {
    auto oldest = recent_closed_.find(recent_closed_order_.front());
    if (oldest != recent_closed_.end()) spare_run_ = recent_closed_.extract(oldest);
    recent_closed_order_.pop_front();
  }
  recent_closed_order_.push_back(run.run_id);
  // A run closes once: its id is not among the recently closed already.
  recent_closed_.erase(run.run_id);
  recent_closed_.insert(std::move(node));
}

const RunState* EngineImpl::FindRecentClosed(const std::string& domain,
                                             const Json& execution) const {
  auto run_id = execution.find("runId");
  if (run_id == execution.end() || !run_id->is_string()) return nullptr;
  auto it = recent_closed_.find(run_id->get_ref<const std::string&>());
  if (it == recent_closed_.end()) return nullptr;
  const RunState& run = it->second;
  auto workflow_id = execution.find("workflowId");
  if (run.domain != domain || workflow_id == execution.end() || !workflow_id->is_string() ||
      workflow_id->get_ref<const std::string&>() != run.workflow_id) {
    return nullptr;
  }
  return &run;
}

void EngineImpl::ForgetPurgedRecentClosed() {
  std::deque<std::string> kept;
  for (std::string& run_id : recent_closed_order_) {
    auto it = recent_closed_.find(run_id);
    if (it == recent_closed_.end()) continue;
    if (PastRetention(it->second)) {
      recent_closed_.erase(it);
    } else {
      kept.push_back(std::move(run_id));
    }
  }
  recent_closed_order_.swap(kept);
}

void EngineImpl::Defer(Engine::Callback done, std::function<Result<Json>(store::Store&)> read) {
  deferred_.emplace_back(std::move(done), std::move(read));
}

// --- retention -------------------------------------------------------------------------

void EngineImpl::ArmRetentionSweep(TimePoint when) {
  if (sweeping_) {
    // A sweep is running on the journal: it reports when the next is due.
    if (!sweep_at_ || when < *sweep_at_) sweep_at_ = when;
    return;
  }
  if (sweep_at_ && *sweep_at_ <= when && sweep_deadline_ != 0) return;
  CancelDeadline(&sweep_deadline_);
  sweep_at_ = when;
  Deadline deadline;
  deadline.kind = DeadlineKind::kRetention;
  deadline.when = when;
  sweep_deadline_ = AddDeadline(std::move(deadline));
}

// A run references payloads put after it started, except its own input,
// put just before its start: payloads are kept this long before the oldest
// run of their domain.
constexpr std::int64_t kPayloadMarginMicros = std::int64_t{3600} * 1000000;

void EngineImpl::SweepRetention() {
  sweep_deadline_ = 0;
  sweep_at_.reset();
  sweeping_ = true;
  ForgetPurgedRecentClosed();
  // Each domain's cutoff: closed at or before now minus its retention.
  std::vector<std::pair<std::string, std::int64_t>> domains;
  for (const auto& [name, domain] : domains_) domains.emplace_back(name, domain.Retention().count());
  const TimePoint now = now_;
  journal_->Run([this, domains = std::move(domains), now](store::Store& store) {
    constexpr std::size_t kBatch = 500;
    std::size_t purged = 0;
    bool more = false;
    std::optional<TimePoint> next;
    for (const auto& [name, seconds] : domains) {
      const TimePoint cutoff = now - std::chrono::seconds(seconds);
      auto result = store.PurgeClosed(name, TimeJson(cutoff).get<std::int64_t>(), kBatch);
      if (!result.ok()) {
        more = true;  // try again later
        continue;
      }
      purged += result->purged;
      more = more || result->more;
      // Payloads older than every run the domain still holds.
      auto payloads = store.PurgePayloads(name, TimeJson(now).get<std::int64_t>(),
                                          kPayloadMarginMicros, kBatch);
      more = more || !payloads.ok() || payloads->more;
      auto oldest = store.OldestClose(name);
      if (oldest.ok() && *oldest) {
        const TimePoint due = TimeFrom(Json(**oldest)) + std::chrono::seconds(seconds);
        if (!next || due < *next) next = due;
      }
    }
    // Bounded batches: the rest of a backlog follows shortly, between calls.
    if (more) next = now + std::chrono::milliseconds(100);
    std::lock_guard<std::mutex> lock(sweep_mu_);
    sweep_purged_ += purged;
    sweep_next_ = next;
    sweep_done_ = true;
  });
}

void EngineImpl::ReadSweepMailLocked() {
  std::optional<TimePoint> next;
  {
    std::lock_guard<std::mutex> lock(sweep_mu_);
    if (!sweep_done_) return;
    sweep_done_ = false;
    closed_runs_ -= std::min(closed_runs_, sweep_purged_);
    sweep_purged_ = 0;
    next = sweep_next_;
  }
  sweeping_ = false;
  // Runs that closed while the sweep ran asked for an earlier one.
  if (sweep_at_ && (!next || *sweep_at_ < *next)) next = sweep_at_;
  sweep_at_.reset();
  if (next) ArmRetentionSweep(*next);
}

// --- loading ---------------------------------------------------------------------------------

Status EngineImpl::LoadLocked() {
  try {
    ASSIGN_OR_RETURN(auto domains, store_->LoadDomains());
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
    ASSIGN_OR_RETURN(store::Summary summary, store_->Summarize());
    run_seq_ = summary.max_start_seq;
    closed_runs_ = summary.closed_runs;

    // Queued tasks across runs, put back at their positions.
    struct Requeue {
      TaskKind kind;
      std::string key;
      QueuePosition position;
      QueuedTask task;
      QueuePosition* slot;
    };
    std::vector<Requeue> requeue;
    RETURN_IF_ERROR(store_->LoadOpenRuns([&](store::RunRecord record,
                                             std::vector<store::Part> parts) -> Status {
      const std::string run_id = record.run_id;
      RunState r = RunFromRecord(record);
      const Json j = Json::parse(record.state);
      const auto count = Checked<std::int64_t>(j.at("events"));
      ASSIGN_OR_RETURN(auto bodies, store_->ReadEvents(run_id, 1, count));
      if (static_cast<std::int64_t>(bodies.size()) != count) {
        return InternalError("store: run " + run_id + " has " + std::to_string(bodies.size()) +
                             " events, its row says " + std::to_string(count));
      }
      r.events.reserve(bodies.size());
      for (const auto& body : bodies) r.events.push_back(Json::parse(body));
      r.persisted_events = r.events.size();

      auto domain = domains_.find(r.domain);
      if (domain == domains_.end()) {
        return InternalError("store: run " + run_id + " names unknown domain " + r.domain);
      }
      RunState& run = runs_.emplace(run_id, std::move(r)).first->second;
      ++open_runs_;
      domain->second.open_run_by_workflow_id[run.workflow_id] = run_id;
      domain->second.open_by_start.emplace(run.start_seq, run_id);
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
        requeue.push_back({TaskKind::kDecision, QueueKey(run.domain, decision.task_list), dq,
                           QueuedTask{run_id, decision.scheduled_event_id}, &decision.queued});
      }

      for (const store::Part& part : parts) {
        const Json pj = Json::parse(part.value);
        switch (part.kind) {
          case store::PartKind::kActivity: {
            ActivityTaskState a;
            Get(pj, "scheduled", &a.scheduled_event_id);
            Get(pj, "started", &a.started_event_id);
            Get(pj, "activityId", &a.activity_id);
            a.type = TypeKeyFrom(pj.at("type"));
            Get(pj, "taskList", &a.task_list);
            Get(pj, "priority", &a.priority);
            Get(pj, "scheduleToStartTimeout", &a.schedule_to_start_timeout);
            Get(pj, "scheduleToCloseTimeout", &a.schedule_to_close_timeout);
            Get(pj, "startToCloseTimeout", &a.start_to_close_timeout);
            Get(pj, "heartbeatTimeout", &a.heartbeat_timeout);
            Get(pj, "cancelRequested", &a.cancel_requested);
            Get(pj, "cancelRequestedEvent", &a.latest_cancel_requested_event_id);
            Get(pj, "secret", &a.token_secret);
            Get(pj, "input", &a.input);
            Get(pj, "identity", &a.identity);
            Get(pj, "details", &a.heartbeat_details);
            ActivityTaskState& stored =
                run.activities.emplace(a.scheduled_event_id, std::move(a)).first->second;
            run.activity_ids[stored.activity_id] = stored.scheduled_event_id;
            stored.schedule_to_start_deadline = RestoreDeadline(pj.at("scheduleToStart"), run_id);
            stored.schedule_to_close_deadline = RestoreDeadline(pj.at("scheduleToClose"), run_id);
            stored.start_to_close_deadline = RestoreDeadline(pj.at("startToClose"), run_id);
            stored.heartbeat_deadline = RestoreDeadline(pj.at("heartbeat"), run_id);
            const QueuePosition aq = QueueFrom(pj.at("queued"));
            if (aq.seq != 0) {
              requeue.push_back({TaskKind::kActivity, QueueKey(run.domain, stored.task_list), aq,
                                 QueuedTask{run_id, stored.scheduled_event_id}, &stored.queued});
            }
            break;
          }
          case store::PartKind::kTimer: {
            TimerState t;
            Get(pj, "timerId", &t.timer_id);
            Get(pj, "started", &t.started_event_id);
            TimerState& stored = run.timers.emplace(t.timer_id, std::move(t)).first->second;
            stored.deadline = RestoreDeadline(pj.at("deadline"), run_id);
            break;
          }
          case store::PartKind::kChild: {
            ChildState c;
            Get(pj, "initiated", &c.initiated_event_id);
            Get(pj, "started", &c.started_event_id);
            Get(pj, "workflowId", &c.workflow_id);
            Get(pj, "runId", &c.run_id);
            c.type = TypeKeyFrom(pj.at("type"));
            run.children.emplace(c.initiated_event_id, std::move(c));
            break;
          }
          case store::PartKind::kContext:
            run.latest_execution_context = pj.get<std::string>();
            break;
        }
      }
      return Status::Ok();
    }));
    for (auto& r : requeue) {
      Queues(r.kind)[r.key].Restore(r.position, r.task);
      *r.slot = r.position;
    }
    // Closed runs whose retention passed while the engine was down are
    // purged by the first sweep.
    if (closed_runs_ > 0) ArmRetentionSweep(now_);
  } catch (const std::exception& e) {
    return InternalError(std::string("store: a record does not parse: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace garcon::engine
