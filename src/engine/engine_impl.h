// EngineImpl: the state machine behind garcon::engine::Engine. One mutex
// guards all state; callbacks of answered calls run after it is released.
//
// Every operation runs as: lock; fire due deadlines; the handler mutates the
// state through the few functions of run_mutations.cc; runs over the event
// limit are terminated; queued tasks are handed to waiting polls; what
// changed is submitted to the journal as one batch; unlock. Answers (and
// tasks handed to polls) are held until the journal reports their batch
// durable, then their callbacks run, outside the lock.
//
// Only open runs live in memory (and closed ones until their close is
// durable). Closed runs are read back from the store: such reads run as
// journal jobs, after every batch submitted before them.
//
// Files: engine.cc (dispatch, polls plumbing, deadlines, timer thread,
// durability of answers), persistence.cc (batches, loading, retention),
// registration.cc (domains, types, tags), executions.cc (start, signal,
// cancel, terminate, describe, history, visibility), activity_tasks.cc
// (activity polls, heartbeats, responds, counts), decisions.cc (decision
// polls, RespondDecisionTaskCompleted), run_mutations.cc (events, decision
// scheduling, closing runs, timeouts).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/journal.h"
#include "engine/state.h"
#include "engine/task_queue.h"
#include "engine/timer_queue.h"
#include "engine/tokens.h"
#include "garcon/engine.h"
#include "garcon/store.h"

namespace garcon::engine {

// A run as a store row holds it (without events, activities, timers or
// children). Throws Json::exception on a corrupt row.
RunState RunFromRecord(const store::RunRecord& record);
// How many events the row says its run has.
std::int64_t StoredEventCount(const store::RunRecord& record);

class EngineImpl {
 public:
  explicit EngineImpl(EngineOptions options);
  ~EngineImpl();

  Engine::CallId CallAsync(std::string_view operation, const Json& request, Engine::Callback done);
  void Cancel(Engine::CallId id);
  void Shutdown();
  void FireDueTimers();
  void Flush();
  bool OnJournalThread() const;
  bool PumpJournal();
  Engine::Stats GetStats() const;

 private:
  struct Completion {
    Engine::Callback done;
    Result<Json> result;
    bool empty_poll = false;  // shows no state: released at once
  };
  struct PollParams {
    std::string domain;
    std::optional<std::string> identity;
    int page_size = 1000;
    bool reverse = false;
    bool start_at_previous = false;
  };
  struct Waiter {
    TaskKind kind = TaskKind::kDecision;
    std::string queue_key;
    PollParams params;
    Engine::Callback done;
    DeadlineId deadline = 0;
  };
  using Handler = Result<Json> (EngineImpl::*)(const Json&);
  static const std::unordered_map<std::string_view, Handler>& Handlers();

  // --- engine.cc: plumbing -------------------------------------------------
  // Runs `body` under the lock with due deadlines fired before and the
  // operation finished after; then runs the queued callbacks.
  // Returns the store's status after the operation's changes were written.
  // `own`: the caller's answer, queued after those the operation gave.
  template <typename Body>
  Status Locked(Body&& body, std::optional<Completion>* own = nullptr);
  void FireDueLocked();
  void HandleDeadline(const Deadline& deadline);
  void FinishOperationLocked();
  void DispatchLocked();
  void TimerThreadMain();
  DeadlineId AddDeadline(Deadline deadline);
  void CancelDeadline(DeadlineId* id);
  DeadlineId AddDeadlineAfter(std::int64_t seconds, Deadline deadline);
  void Answer(Engine::Callback done, Result<Json> result);
  void AnswerEmpty(Engine::Callback done, TaskKind kind);
  static Json EmptyPoll(TaskKind kind);
  std::optional<Result<Json>> Poll(TaskKind kind, const Json& request, Engine::CallId id,
                                   Engine::Callback* done);
  Result<Json> StartTask(TaskKind kind, const QueuedTask& task, const PollParams& params);
  std::unordered_map<std::string, TaskQueue>& Queues(TaskKind kind);
  void EnqueueTask(TaskKind kind, const std::string& queue_key, std::int64_t priority,
                   QueuedTask task, QueuePosition* position);
  void DequeueTask(TaskKind kind, const std::string& queue_key, QueuePosition* position);
  static std::string QueueKey(const std::string& domain, const std::string& task_list);

  // --- persistence.cc: the journal, loading, retention ----------------------
  // Loads domains and open runs, and re-arms queues and deadlines.
  Status LoadLocked();
  // Submits what the operation changed as one batch. With a durable store
  // the batch commits later (OnDurable); otherwise it is applied now, and
  // after a failure every later call fails (memory and store could differ).
  void PersistLocked();
  // The journal's report: answers of batches up to `seq` are released and
  // closed runs they hold are dropped from memory.
  void OnDurable(std::uint64_t seq, const Status& status);
  // Holds `completions` (submitted up to `seq`) until durable, and moves
  // the answers whose batches are durable to `ready`. Takes held_mu_.
  void HoldAndRelease(std::uint64_t seq, std::vector<Completion>* completions,
                      std::vector<Completion>* ready);
  // held_mu_ held: moves the answers whose batches are durable to `ready`.
  void ReleaseHeldLocked(std::vector<Completion>* ready);
  // mu_ held: takes a failure the journal reported, and drops closed runs
  // whose close is durable (keeping the latest in recent_closed_).
  void SyncJournalLocked();
  // The node of runs_ (and recent_closed_) holding one run.
  using RunNode = std::unordered_map<std::string, RunState>::node_type;
  // Keeps the run in `node` (taken out of runs_), closed and durable, among
  // the recently closed runs, unless its retention has passed. The node
  // moves between the maps and the one it evicts is kept for the next run
  // (spare_run_), so a run's state, about a kilobyte, is not allocated and
  // copied again at its close and at the next start.
  void RememberClosed(RunNode node);
  // The recently closed run `execution` names in `domain`, or null.
  const RunState* FindRecentClosed(const std::string& domain, const Json& execution) const;
  // A retention sweep at now_: forgets the recently closed runs it purges.
  void ForgetPurgedRecentClosed();
  // Whether a retention sweep now would purge closed `run` (or its domain
  // is unknown, or it has not closed).
  bool PastRetention(const RunState& run);
  // What changed in a run since the last batch.
  struct RunDirty {
    bool row = false;
    bool closed = false;
    bool context = false;
    std::set<EventId> activities;
    std::set<std::string> timers;
    std::set<EventId> children;
  };
  RunDirty& Dirty(const RunState& run);
  void TouchActivity(const RunState& run, EventId scheduled_event_id);
  void TouchTimer(const RunState& run, const std::string& timer_id);
  void TouchChild(const RunState& run, EventId initiated_event_id);
  // The deadline `id` names (null for 0 or one that is gone).
  const Deadline* FindDeadline(DeadlineId id) const;
  DeadlineId RestoreDeadline(const Json& json, const std::string& run_id);
  store::RunRecord RunRecordOf(const RunState& run) const;
  // A run's `state` column and an activity's part, as JSON text.
  std::string RunStateText(const RunState& run) const;
  std::string ActivityText(const ActivityTaskState& activity) const;
  Json DomainJson(const DomainState& domain) const;
  // Retention: closed runs are purged, in bounded batches on the journal,
  // once their domain's retention has passed since they closed.
  void ArmRetentionSweep(TimePoint when);
  void SweepRetention();
  void ReadSweepMailLocked();
  // Answers `done` with `read(store)` once every batch submitted before is
  // durable (after the lock is released).
  void Defer(Engine::Callback done, std::function<Result<Json>(store::Store&)> read);

  // --- lookups -------------------------------------------------------------
  DomainState* FindDomain(const std::string& name);
  Result<DomainState*> RequireDomain(const std::string& name);
  RunState* FindRun(const std::string& run_id);
  // The run named by an execution {workflowId, runId} in `domain`.
  Result<RunState*> RequireExecution(const std::string& domain, const Json& execution);
  // The run `run_id` of workflowId, or its open run when run_id is empty;
  // UnknownResourceFault unless that run is open.
  Result<RunState*> RequireOpenRun(const std::string& domain, const std::string& workflow_id,
                                   const std::string& run_id);
  Result<RunState*> RunForDecisionToken(const std::string& token);
  Result<std::pair<RunState*, ActivityTaskState*>> ActivityForToken(const std::string& token);

  // --- run_mutations.cc: the few places that change a run --------------------
  EventId AppendEvent(RunState& run, std::string_view type, Json attributes);
  // Records that `run` got an event that needs a decision: schedules a
  // decision task now, or after the started one.
  void NeedDecision(RunState& run);
  void ScheduleDecisionTask(RunState& run);
  // Registers `run` (workflow_id, type, configuration and parent filled in;
  // run_id too, or empty for a new one) as an open run of `domain` and writes
  // WorkflowExecutionStarted and DecisionTaskScheduled.
  RunState& CreateRun(DomainState& domain, RunState run, std::optional<std::string> input,
                      std::optional<std::string> continued_execution_run_id);
  // Closes `run` after its close event was written: drops its tasks, timers
  // and deadlines, applies `child_policy` to open children when given, and
  // tells the parent (`parent_extra`: result, reason, details... of the
  // parent's ChildWorkflowExecution* event).
  void CloseRun(RunState& run, std::string_view close_status,
                std::optional<std::string> child_policy, Json parent_extra);
  void TerminateRun(RunState& run, std::optional<std::string> reason,
                    std::optional<std::string> details, std::optional<std::string> child_policy,
                    std::optional<std::string> cause);
  void RequestCancelRun(RunState& run, Json attributes);
  void SignalRun(RunState& run, Json attributes);
  void CloseActivity(RunState& run, EventId scheduled_event_id);
  void OnActivityTimeout(const Deadline& deadline);
  void OnDecisionTimeout(const Deadline& deadline);
  void OnExecutionTimeout(const Deadline& deadline);
  void OnTimerFired(const Deadline& deadline);
  void EnforceEventLimits();

  // --- decisions.cc ----------------------------------------------------------
  Result<Json> StartDecisionTask(RunState& run, EventId scheduled_event_id,
                                 const PollParams& params);
  Result<Json> DecisionTaskResponse(const RunState& run, const std::string& token,
                                    EventId started_event_id, EventId previous_started_event_id,
                                    EventId first_event_id, std::optional<EventId> cursor,
                                    const PollParams& params);
  Result<Json> DecisionPageFromToken(const Json& request);
  Result<Json> RespondDecisionTaskCompleted(const Json& request);
  struct DecisionContext;
  void ApplyDecision(RunState& run, const Json& decision, DecisionContext& context);
  void DecideScheduleActivityTask(RunState& run, const Json& attrs, DecisionContext& context);
  void DecideRequestCancelActivityTask(RunState& run, const Json& attrs, DecisionContext& context);
  void DecideStartTimer(RunState& run, const Json& attrs, DecisionContext& context);
  void DecideCancelTimer(RunState& run, const Json& attrs, DecisionContext& context);
  void DecideClose(RunState& run, std::string_view decision_type, const Json& attrs,
                   DecisionContext& context);
  void DecideContinueAsNew(RunState& run, const Json& attrs, DecisionContext& context);
  void DecideSignalExternal(RunState& run, const Json& attrs, DecisionContext& context);
  void DecideRequestCancelExternal(RunState& run, const Json& attrs, DecisionContext& context);
  void DecideStartChild(RunState& run, const Json& attrs, DecisionContext& context);

  // --- registration.cc -------------------------------------------------------
  Result<Json> RegisterDomain(const Json& request);
  Result<Json> DescribeDomain(const Json& request);
  Result<Json> ListDomains(const Json& request);
  Result<Json> DeprecateDomain(const Json& request);
  Result<Json> UndeprecateDomain(const Json& request);
  Result<Json> RegisterActivityType(const Json& request);
  Result<Json> RegisterWorkflowType(const Json& request);
  Result<Json> DescribeActivityType(const Json& request);
  Result<Json> DescribeWorkflowType(const Json& request);
  Result<Json> ListActivityTypes(const Json& request);
  Result<Json> ListWorkflowTypes(const Json& request);
  Result<Json> DeprecateActivityType(const Json& request);
  Result<Json> DeprecateWorkflowType(const Json& request);
  Result<Json> UndeprecateActivityType(const Json& request);
  Result<Json> UndeprecateWorkflowType(const Json& request);
  Result<Json> DeleteActivityType(const Json& request);
  Result<Json> DeleteWorkflowType(const Json& request);
  Result<Json> TagResource(const Json& request);
  Result<Json> UntagResource(const Json& request);
  Result<Json> ListTagsForResource(const Json& request);
  Result<DomainState*> DomainForArn(const std::string& arn);

  // --- payloads.cc -----------------------------------------------------------
  Result<Json> PutPayload(const Json& request);
  Result<Json> GetPayload(const Json& request);

  // --- executions.cc ---------------------------------------------------------
  Result<Json> StartWorkflowExecution(const Json& request);
  Result<Json> SignalWorkflowExecution(const Json& request);
  Result<Json> RequestCancelWorkflowExecution(const Json& request);
  Result<Json> TerminateWorkflowExecution(const Json& request);
  Result<Json> DescribeWorkflowExecution(const Json& request);
  Result<Json> GetWorkflowExecutionHistory(const Json& request);
  Result<Json> ListOpenWorkflowExecutions(const Json& request);
  Result<Json> ListClosedWorkflowExecutions(const Json& request);
  Result<Json> CountOpenWorkflowExecutions(const Json& request);
  Result<Json> CountClosedWorkflowExecutions(const Json& request);
  Result<std::vector<RunState*>> FilterOpenExecutions(const Json& request);
  Result<store::ClosedQuery> ClosedQueryOf(const Json& request);
  static Json ExecutionInfo(const RunState& run);
  static Json DescribeJson(const RunState& run);

  // --- activity_tasks.cc -----------------------------------------------------
  Result<Json> StartActivityTask(RunState& run, ActivityTaskState& activity,
                                 const PollParams& params);
  Result<Json> RecordActivityTaskHeartbeat(const Json& request);
  Result<Json> RespondActivityTaskCompleted(const Json& request);
  Result<Json> RespondActivityTaskFailed(const Json& request);
  Result<Json> RespondActivityTaskCanceled(const Json& request);
  Result<Json> CountPendingActivityTasks(const Json& request);
  Result<Json> CountPendingDecisionTasks(const Json& request);
  void ArmHeartbeat(RunState& run, ActivityTaskState& activity);

  // --- state ---------------------------------------------------------------
  const EngineOptions options_;
  const std::shared_ptr<Clock> clock_;
  mutable std::mutex mu_;
  // Callers spinning for `mu_` (engine.cc, LockForCall): one at a time.
  std::atomic<int> lock_spinners_{0};
  std::condition_variable timer_cv_;
  bool stopping_ = false;
  bool shutdown_ = false;
  // The time operations stamp events with: the clock's time, or a
  // deadline's time while it fires.
  TimePoint now_;

  std::map<std::string, DomainState> domains_;      // by name (ListDomains order)
  std::unordered_map<std::string, RunState> runs_;  // by runId
  std::size_t open_runs_ = 0;
  std::unordered_map<std::string, TaskQueue> decision_queues_;
  std::unordered_map<std::string, TaskQueue> activity_queues_;
  std::vector<std::pair<TaskKind, std::string>> dirty_queues_;
  std::vector<std::string> over_limit_runs_;
  std::unordered_map<Engine::CallId, Waiter> waiters_;
  TimerQueue timers_;
  std::vector<Completion> completions_;
  std::atomic<std::uint64_t> next_call_id_{1};

  // Persistence. Without a user store, an in-memory store keeps closed runs
  // only (journal_all_ false).
  std::shared_ptr<store::Store> store_;
  bool journal_all_ = false;
  std::unique_ptr<Journal> journal_;
  std::unordered_map<std::string, RunDirty> dirty_;
  bool domains_dirty_ = false;
  std::vector<store::Payload> pending_payloads_;  // put by the current operation
  Status store_status_;
  std::uint64_t run_seq_ = 0;
  // What the journal reports, guarded by held_mu_ (taken after mu_, or
  // alone: the journal's thread releases answers without the engine's
  // lock, so a commit's end never waits for an operation in progress).
  mutable std::mutex held_mu_;
  std::uint64_t durable_seq_ = 0;
  Status journal_failure_;
  // Answers waiting for their batch to be durable, in submission order.
  std::deque<std::pair<std::uint64_t, Completion>> held_;
  // Closed runs still in memory, dropped once their close is durable.
  std::deque<std::pair<std::uint64_t, std::string>> closing_;
  std::vector<std::string> closed_now_;  // closed by the current batch
  // The latest closed runs whose close is durable, as their rows hold them
  // (no events; no open tasks, timers or children): DescribeWorkflowExecution
  // of a run that just closed answers from here rather than from the store,
  // which for the memory-only engine would first apply every batch waiting
  // for its group. At most kRecentClosed, the oldest forgotten first; closed
  // runs never change, and a retention sweep forgets those it purges.
  static constexpr std::size_t kRecentClosed = 1024;
  std::unordered_map<std::string, RunState> recent_closed_;  // by runId
  std::deque<std::string> recent_closed_order_;              // oldest first
  RunNode spare_run_;  // a node recent_closed_ evicted, for CreateRun
  std::size_t closed_runs_ = 0;          // closed runs in the store
  // A read the current handler asked to run on the store (see Defer).
  std::function<Result<Json>(store::Store&)> pending_read_;
  std::vector<std::pair<Engine::Callback, std::function<Result<Json>(store::Store&)>>> deferred_;
  // Retention sweeps: the armed one, and what the last sweep reported
  // (written on the journal's thread, read under mu_).
  std::optional<TimePoint> sweep_at_;
  DeadlineId sweep_deadline_ = 0;
  bool sweeping_ = false;
  std::mutex sweep_mu_;
  std::optional<TimePoint> sweep_next_;
  std::size_t sweep_purged_ = 0;
  bool sweep_done_ = false;

  int clock_subscription_ = 0;
  std::thread timer_thread_;
};

}  // namespace garcon::engine
