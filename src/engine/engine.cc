// Engine and EngineImpl plumbing: dispatch of operations, the lock and the
// callbacks run after it, long-poll waiters, deadlines and the timer thread.
#include "garcon/engine.h"

#include <algorithm>
#include <future>
#include <stdexcept>
#include <unordered_set>

#include "base/secure_compare.h"
#include "base/status_macros.h"
#include "engine/durations.h"
#include "engine/engine_impl.h"
#include "protocol/model.h"

namespace garcon::engine {

// --- Engine ------------------------------------------------------------------

Engine::Engine(EngineOptions options) : impl_(std::make_unique<EngineImpl>(std::move(options))) {}

Result<std::unique_ptr<Engine>> Engine::Open(EngineOptions options) {
  try {
    return std::make_unique<Engine>(std::move(options));
  } catch (const std::exception& e) {
    return InternalError(e.what());
  }
}

Engine::~Engine() = default;

Result<Json> Engine::Call(std::string_view operation, const Json& request) {
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Result<Json>> result;
  };
  auto shared = std::make_shared<Shared>();
  impl_->CallAsync(operation, request, [shared](Result<Json> result) {
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      shared->result.emplace(std::move(result));
    }
    // After unlocking: a waiter woken under the lock would block on it at
    // once and need a second wake-up (this runs on the journal's thread).
    shared->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(shared->mu);
  // Called from an answer's callback on the journal's thread: nobody else
  // commits while this waits, so keep the journal going from here.
  while (impl_->OnJournalThread() && !shared->result.has_value()) {
    lock.unlock();
    const bool pumped = impl_->PumpJournal();
    lock.lock();
    if (!pumped) shared->cv.wait_for(lock, std::chrono::milliseconds(1));
  }
  shared->cv.wait(lock, [&] { return shared->result.has_value(); });
  return std::move(*shared->result);
}

Engine::CallId Engine::CallAsync(std::string_view operation, const Json& request, Callback done) {
  return impl_->CallAsync(operation, request, std::move(done));
}

void Engine::Cancel(CallId id) { impl_->Cancel(id); }
void Engine::Shutdown() { impl_->Shutdown(); }
void Engine::FireDueTimers() { impl_->FireDueTimers(); }
void Engine::Flush() { impl_->Flush(); }
Engine::Stats Engine::GetStats() const { return impl_->GetStats(); }

// --- EngineImpl: life cycle ----------------------------------------------------

EngineImpl::EngineImpl(EngineOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : SystemClockInstance()),
      now_(clock_->Now()),
      store_(options_.store) {
  // Without a store of the user's, closed runs go to an in-memory one so
  // that memory holds open runs only, as with a durable store.
  journal_all_ = store_ != nullptr;
  if (!store_) store_ = store::OpenMemoryStore();
  journal_ = std::make_unique<Journal>(
      store_, store_->durable(),
      [this](std::uint64_t seq, const Status& status) { OnDurable(seq, status); });
  if (journal_all_) {
    std::lock_guard<std::mutex> lock(mu_);
    Status loaded = LoadLocked();
    if (!loaded.ok()) {
      journal_.reset();
      throw std::runtime_error(loaded.ToString());
    }
  }
  clock_subscription_ = clock_->Subscribe([this] {
    FireDueTimers();
    Flush();
  });
  if (options_.timer_thread) timer_thread_ = std::thread([this] { TimerThreadMain(); });
}

EngineImpl::~EngineImpl() {
  // Unsubscribe without the lock: a running FakeClock::Advance may be inside
  // FireDueTimers, waiting for it.
  clock_->Unsubscribe(clock_subscription_);
  Shutdown();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  timer_cv_.notify_all();
  if (timer_thread_.joinable()) timer_thread_.join();
  // Commits what is queued and releases the answers it holds.
  journal_.reset();
}

const std::unordered_map<std::string_view, EngineImpl::Handler>& EngineImpl::Handlers() {
  static const std::unordered_map<std::string_view, Handler> kHandlers = {
      {"CountClosedWorkflowExecutions", &EngineImpl::CountClosedWorkflowExecutions},
      {"CountOpenWorkflowExecutions", &EngineImpl::CountOpenWorkflowExecutions},
      {"CountPendingActivityTasks", &EngineImpl::CountPendingActivityTasks},
      {"CountPendingDecisionTasks", &EngineImpl::CountPendingDecisionTasks},
      {"DeleteActivityType", &EngineImpl::DeleteActivityType},
      {"DeleteWorkflowType", &EngineImpl::DeleteWorkflowType},
      {"DeprecateActivityType", &EngineImpl::DeprecateActivityType},
      {"DeprecateDomain", &EngineImpl::DeprecateDomain},
      {"DeprecateWorkflowType", &EngineImpl::DeprecateWorkflowType},
      {"DescribeActivityType", &EngineImpl::DescribeActivityType},
      {"DescribeDomain", &EngineImpl::DescribeDomain},
      {"DescribeWorkflowExecution", &EngineImpl::DescribeWorkflowExecution},
      {"DescribeWorkflowType", &EngineImpl::DescribeWorkflowType},
      {"GetPayload", &EngineImpl::GetPayload},
      {"GetWorkflowExecutionHistory", &EngineImpl::GetWorkflowExecutionHistory},
      {"ListActivityTypes", &EngineImpl::ListActivityTypes},
      {"ListClosedWorkflowExecutions", &EngineImpl::ListClosedWorkflowExecutions},
      {"ListDomains", &EngineImpl::ListDomains},
      {"ListOpenWorkflowExecutions", &EngineImpl::ListOpenWorkflowExecutions},
      {"ListTagsForResource", &EngineImpl::ListTagsForResource},
      {"ListWorkflowTypes", &EngineImpl::ListWorkflowTypes},
      {"PutPayload", &EngineImpl::PutPayload},
      {"RecordActivityTaskHeartbeat", &EngineImpl::RecordActivityTaskHeartbeat},
      {"RegisterActivityType", &EngineImpl::RegisterActivityType},
      {"RegisterDomain", &EngineImpl::RegisterDomain},
      {"RegisterWorkflowType", &EngineImpl::RegisterWorkflowType},
      {"RequestCancelWorkflowExecution", &EngineImpl::RequestCancelWorkflowExecution},
      {"RespondActivityTaskCanceled", &EngineImpl::RespondActivityTaskCanceled},
      {"RespondActivityTaskCompleted", &EngineImpl::RespondActivityTaskCompleted},
      {"RespondActivityTaskFailed", &EngineImpl::RespondActivityTaskFailed},
      {"RespondDecisionTaskCompleted", &EngineImpl::RespondDecisionTaskCompleted},
      {"SignalWorkflowExecution", &EngineImpl::SignalWorkflowExecution},
      {"StartWorkflowExecution", &EngineImpl::StartWorkflowExecution},
      {"TagResource", &EngineImpl::TagResource},
      {"TerminateWorkflowExecution", &EngineImpl::TerminateWorkflowExecution},
      {"UndeprecateActivityType", &EngineImpl::UndeprecateActivityType},
      {"UndeprecateDomain", &EngineImpl::UndeprecateDomain},
      {"UndeprecateWorkflowType", &EngineImpl::UndeprecateWorkflowType},
      {"UntagResource", &EngineImpl::UntagResource},
  };
  return kHandlers;
}

namespace {

// Takes `mu` for a call, spinning a few microseconds before sleeping on it.
// A call holds the engine's lock for a few microseconds; with the server's
// I/O threads on as many cores, a caller that found it taken used to sleep
// in the kernel and be woken by the holder's unlock (a futex wait and a
// wake: several microseconds each, more than the wait itself). A caller
// that spins takes the lock as it is released, and the holder's unlock
// finds no sleeper to wake. One caller spins at a time (`spinners`): with
// more threads than cores, more spinners would take the CPU the holder
// needs to finish.
std::unique_lock<std::mutex> LockForCall(std::mutex& mu, std::atomic<int>& spinners) {
  // A pause is about 10-40 ns (its length varies by processor): a few
  // microseconds of spinning in all, the length of a typical call.
  constexpr int kSpins = 300;
  std::unique_lock<std::mutex> lock(mu, std::try_to_lock);
  if (lock.owns_lock()) return lock;
  if (spinners.fetch_add(1, std::memory_order_relaxed) == 0) {
    for (int i = 0; i < kSpins && !lock.owns_lock(); ++i) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if ((i & 7) == 7) (void)lock.try_lock();
    }
  }
  spinners.fetch_sub(1, std::memory_order_relaxed);
  if (!lock.owns_lock()) lock.lock();
  return lock;
}

}  // namespace

template <typename Body>
Status EngineImpl::Locked(Body&& body, std::optional<Completion>* own) {
  std::vector<Completion> ready;
  std::vector<std::pair<Engine::Callback, std::function<Result<Json>(store::Store&)>>> deferred;
  Status stored;
  {
    const std::unique_lock<std::mutex> lock = LockForCall(mu_, lock_spinners_);
    SyncJournalLocked();
    ReadSweepMailLocked();
    FireDueLocked();
    body();
    FinishOperationLocked();
    stored = store_status_;
    // The caller's own answer comes after the tasks its call handed to polls.
    if (own != nullptr && *own) completions_.push_back(std::move(**own));
    // Answers wait for everything submitted so far: a reader never sees a
    // change that is not durable yet. Empty polls show nothing and go at once.
    HoldAndRelease(journal_->submitted(), &completions_, &ready);
    deferred.swap(deferred_);
  }
  for (auto& completion : ready) completion.done(std::move(completion.result));
  for (auto& [done, read] : deferred) {
    journal_->Run([done = std::move(done), read = std::move(read)](store::Store& store) mutable {
      Result<Json> result = InternalError("unreachable");
      try {
        result = read(store);
      } catch (const std::exception& e) {
        result = InternalError(std::string("store: a record does not parse: ") + e.what());
      }
      done(std::move(result));
    });
  }
  return stored;
}

namespace {

// Operations that change domains or types (not runs).
bool ChangesDomains(std::string_view operation) {
  static const std::unordered_set<std::string_view> kOperations = {
      "RegisterDomain",        "DeprecateDomain",          "UndeprecateDomain",
      "RegisterActivityType",  "RegisterWorkflowType",     "DeprecateActivityType",
      "DeprecateWorkflowType", "UndeprecateActivityType",  "UndeprecateWorkflowType",
      "DeleteActivityType",    "DeleteWorkflowType",       "TagResource",
      "UntagResource"};
  return kOperations.count(operation) > 0;
}

}  // namespace

Engine::CallId EngineImpl::CallAsync(std::string_view operation, const Json& request,
                                     Engine::Callback done) {
  const Engine::CallId id = next_call_id_++;
  if (!done) done = [](Result<Json>) {};
  // Garcon's own operations check their requests themselves (payloads.cc).
  Status valid = protocol::IsGarconOperation(operation)
                     ? (request.is_object() ? Status::Ok()
                                            : SerializationError("the request must be a JSON object"))
                     : protocol::Model::Get().ValidateInput(operation, request);
  if (!valid.ok()) {
    done(std::move(valid));
    return id;
  }
  const bool decision_poll = operation == "PollForDecisionTask";
  const bool activity_poll = operation == "PollForActivityTask";
  Handler handler = nullptr;
  if (!decision_poll && !activity_poll) {
    auto it = Handlers().find(operation);
    if (it == Handlers().end()) {
      // Unreachable: every operation of the model has a handler (the model check
      // refused unknown ones above).
      done(InternalError("no handler for operation " + std::string(operation)));
      return id;
    }
    handler = it->second;
  }
  const bool changes_domains = ChangesDomains(operation);
  std::optional<Completion> own;
  (void)Locked([&] {
    if (!store_status_.ok()) {
      own = Completion{std::move(done), store_status_};
      return;
    }
    if (changes_domains) domains_dirty_ = true;
    std::optional<Result<Json>> immediate;
    try {
      if (decision_poll) {
        immediate = Poll(TaskKind::kDecision, request, id, &done);
      } else if (activity_poll) {
        immediate = Poll(TaskKind::kActivity, request, id, &done);
      } else {
        immediate = (this->*handler)(request);
      }
    } catch (const Json::exception& e) {
      // The model check should make this unreachable.
      immediate = Result<Json>(SerializationError(e.what()));
    }
    if (pending_read_) {
      // The handler needs the store (a closed run): it answers from there.
      auto read = std::move(pending_read_);
      pending_read_ = nullptr;
      if (immediate && immediate->ok()) {
        Defer(std::move(done), std::move(read));
        return;
      }
    }
    if (immediate) own = Completion{std::move(done), std::move(*immediate)};
  }, &own);
  return id;
}

void EngineImpl::Cancel(Engine::CallId id) {
  (void)Locked([&] {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return;
    Waiter waiter = std::move(it->second);
    waiters_.erase(it);
    auto& queues = Queues(waiter.kind);
    auto q = queues.find(waiter.queue_key);
    if (q != queues.end()) {
      q->second.RemoveWaiter(id);
      if (q->second.empty()) queues.erase(q);
    }
    CancelDeadline(&waiter.deadline);
    AnswerEmpty(std::move(waiter.done), waiter.kind);
  });
}

void EngineImpl::Shutdown() {
  (void)Locked([&] {
    shutdown_ = true;
    for (auto& [id, waiter] : waiters_) {
      auto& queues = Queues(waiter.kind);
      auto q = queues.find(waiter.queue_key);
      if (q != queues.end()) {
        q->second.RemoveWaiter(id);
        if (q->second.empty()) queues.erase(q);
      }
      CancelDeadline(&waiter.deadline);
      AnswerEmpty(std::move(waiter.done), waiter.kind);
    }
    waiters_.clear();
  });
}

void EngineImpl::FireDueTimers() {
  (void)Locked([] {});
}

void EngineImpl::Flush() {
  if (journal_->OnThread()) {
    while (journal_->Pump()) {
    }
    return;
  }
  journal_->Flush();
}

bool EngineImpl::OnJournalThread() const { return journal_->OnThread(); }
bool EngineImpl::PumpJournal() { return journal_->Pump(); }

Engine::Stats EngineImpl::GetStats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Engine::Stats stats;
  stats.open_executions = open_runs_;
  stats.closed_executions = closed_runs_;
  for (const auto& [key, q] : decision_queues_) stats.queued_decision_tasks += q.size();
  for (const auto& [key, q] : activity_queues_) stats.queued_activity_tasks += q.size();
  stats.poll_waiters = waiters_.size();
  if (journal_all_) {
    stats.store_commits = journal_->commits();
    stats.store_commit_seconds = journal_->commit_seconds();
  }
  // Closed runs whose close is durable count as gone: the next operation
  // drops them.
  std::uint64_t durable = 0;
  {
    std::lock_guard<std::mutex> held(held_mu_);
    durable = durable_seq_;
  }
  std::size_t dropped = 0;
  if (store_status_.ok()) {
    for (const auto& [seq, run_id] : closing_) {
      if (seq > durable) break;
      auto it = runs_.find(run_id);
      if (it != runs_.end() && !it->second.open) ++dropped;
    }
  }
  stats.resident_runs = runs_.size() - std::min(dropped, runs_.size());
  return stats;
}

// --- deadlines -------------------------------------------------------------------

DeadlineId EngineImpl::AddDeadline(Deadline deadline) {
  const auto earliest = timers_.Earliest();
  const bool wake = !earliest || deadline.when < *earliest;
  const DeadlineId id = timers_.Add(std::move(deadline));
  if (wake) timer_cv_.notify_all();
  return id;
}

DeadlineId EngineImpl::AddDeadlineAfter(std::int64_t seconds, Deadline deadline) {
  deadline.when = now_ + std::chrono::seconds(seconds);
  return AddDeadline(std::move(deadline));
}

void EngineImpl::CancelDeadline(DeadlineId* id) {
  if (*id != 0) timers_.Cancel(*id);
  *id = 0;
}

void EngineImpl::FireDueLocked() {
  const TimePoint now = clock_->Now();
  while (auto due = timers_.PopDue(now)) {
    // Events a deadline writes carry the deadline's time.
    now_ = std::max(now_, due->second.when);
    HandleDeadline(due->second);
    FinishOperationLocked();
    ReadSweepMailLocked();
  }
  now_ = std::max(now_, now);
}

void EngineImpl::HandleDeadline(const Deadline& deadline) {
  switch (deadline.kind) {
    case DeadlineKind::kPoll: {
      auto it = waiters_.find(deadline.call_id);
      if (it == waiters_.end()) return;
      Waiter waiter = std::move(it->second);
      waiters_.erase(it);
      auto& queues = Queues(waiter.kind);
      auto q = queues.find(waiter.queue_key);
      if (q != queues.end()) {
        q->second.RemoveWaiter(deadline.call_id);
        if (q->second.empty()) queues.erase(q);
      }
      AnswerEmpty(std::move(waiter.done), waiter.kind);
      return;
    }
    case DeadlineKind::kActivityScheduleToStart:
    case DeadlineKind::kActivityScheduleToClose:
    case DeadlineKind::kActivityStartToClose:
    case DeadlineKind::kActivityHeartbeat:
      OnActivityTimeout(deadline);
      return;
    case DeadlineKind::kDecisionScheduleToStart:
    case DeadlineKind::kDecisionStartToClose:
      OnDecisionTimeout(deadline);
      return;
    case DeadlineKind::kExecutionStartToClose:
      OnExecutionTimeout(deadline);
      return;
    case DeadlineKind::kTimer:
      OnTimerFired(deadline);
      return;
    case DeadlineKind::kRetention:
      SweepRetention();
      return;
  }
}

void EngineImpl::TimerThreadMain() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const TimePoint now = clock_->Now();
    const auto earliest = timers_.Earliest();
    if (earliest && *earliest <= now) {
      lock.unlock();
      FireDueTimers();
      lock.lock();
      continue;
    }
    // Wake at least hourly, so a far deadline never overflows the wait.
    TimePoint wake = now + std::chrono::hours(1);
    if (earliest && *earliest < wake) wake = *earliest;
    clock_->WaitUntil(timer_cv_, lock, wake);
  }
}

// --- completions, queues and polls ---------------------------------------------------

void EngineImpl::Answer(Engine::Callback done, Result<Json> result) {
  completions_.push_back(Completion{std::move(done), std::move(result)});
}

void EngineImpl::AnswerEmpty(Engine::Callback done, TaskKind kind) {
  completions_.push_back(Completion{std::move(done), EmptyPoll(kind), /*empty_poll=*/true});
}

Json EngineImpl::EmptyPoll(TaskKind kind) {
  if (kind == TaskKind::kDecision)
    return Object("previousStartedEventId", 0, "startedEventId", 0);
  return Object("startedEventId", 0);
}

std::string EngineImpl::QueueKey(const std::string& domain, const std::string& task_list) {
  // Names cannot hold control characters, so '\n' separates unambiguously.
  return domain + '\n' + task_list;
}

std::unordered_map<std::string, TaskQueue>& EngineImpl::Queues(TaskKind kind) {
  return kind == TaskKind::kDecision ? decision_queues_ : activity_queues_;
}

void EngineImpl::EnqueueTask(TaskKind kind, const std::string& queue_key, std::int64_t priority,
                             QueuedTask task, QueuePosition* position) {
  *position = Queues(kind)[queue_key].Push(priority, std::move(task));
  dirty_queues_.emplace_back(kind, queue_key);
}

void EngineImpl::DequeueTask(TaskKind kind, const std::string& queue_key, QueuePosition* position) {
  if (position->seq == 0) return;
  auto& queues = Queues(kind);
  auto q = queues.find(queue_key);
  if (q != queues.end()) {
    q->second.Remove(*position);
    if (q->second.empty()) queues.erase(q);
  }
  *position = QueuePosition{};
}

void EngineImpl::FinishOperationLocked() {
  EnforceEventLimits();
  DispatchLocked();
  PersistLocked();
}

void EngineImpl::DispatchLocked() {
  while (!dirty_queues_.empty()) {
    auto [kind, key] = std::move(dirty_queues_.back());
    dirty_queues_.pop_back();
    auto& queues = Queues(kind);
    for (;;) {
      auto q = queues.find(key);
      if (q == queues.end()) break;
      if (q->second.waiters() == 0 || q->second.size() == 0) {
        if (q->second.empty()) queues.erase(q);
        break;
      }
      const std::uint64_t waiter_id = *q->second.PopWaiter();
      const QueuedTask task = *q->second.Pop();
      auto w = waiters_.find(waiter_id);
      Waiter waiter = std::move(w->second);
      waiters_.erase(w);
      Result<Json> started = StartTask(kind, task, waiter.params);
      if (!started.ok()) {
        // The task went stale: the waiter keeps waiting, at the front.
        auto again = queues.find(key);
        if (again == queues.end()) again = queues.emplace(key, TaskQueue{}).first;
        again->second.AddWaiterFront(waiter_id);
        waiters_.emplace(waiter_id, std::move(waiter));
        continue;
      }
      CancelDeadline(&waiter.deadline);
      Answer(std::move(waiter.done), std::move(started));
    }
  }
}

std::optional<Result<Json>> EngineImpl::Poll(TaskKind kind, const Json& request, Engine::CallId id,
                                             Engine::Callback* done) {
  PollParams params;
  params.domain = StringOr(request, "domain");
  params.identity = OptString(request, "identity");
  params.page_size = PageSize(request);
  params.reverse = BoolOr(request, "reverseOrder", false);
  params.start_at_previous = BoolOr(request, "startAtPreviousStartedEvent", false);
  auto domain = RequireDomain(params.domain);
  if (!domain.ok()) return Result<Json>(domain.status());
  if (kind == TaskKind::kDecision && request.contains("nextPageToken") &&
      !StringOr(request, "nextPageToken").empty()) {
    return DecisionPageFromToken(request);
  }
  if (shutdown_) return Result<Json>(EmptyPoll(kind));
  const std::string key = QueueKey(params.domain, *OptTaskList(request, "taskList"));
  auto& queues = Queues(kind);
  auto q = queues.find(key);
  if (q != queues.end()) {
    while (auto task = q->second.Pop()) {
      Result<Json> started = StartTask(kind, *task, params);
      if (started.ok()) {
        q = queues.find(key);
        if (q != queues.end() && q->second.empty()) queues.erase(q);
        return started;
      }
      q = queues.find(key);
      if (q == queues.end()) break;
    }
  }
  if (options_.poll_timeout <= Duration::zero()) return Result<Json>(EmptyPoll(kind));
  auto& queue = queues[key];
  if (queue.waiters() >= kMaxPollersPerTaskList) {
    if (queue.empty()) queues.erase(key);
    return Result<Json>(
        Status(Fault::kLimitExceeded, "Too many pollers on the task list (limit 1000)"));
  }
  queue.AddWaiter(id);
  Waiter waiter;
  waiter.kind = kind;
  waiter.queue_key = key;
  waiter.params = std::move(params);
  waiter.done = std::move(*done);
  Deadline deadline;
  deadline.when = now_ + options_.poll_timeout;
  deadline.kind = DeadlineKind::kPoll;
  deadline.call_id = id;
  waiter.deadline = AddDeadline(std::move(deadline));
  waiters_.emplace(id, std::move(waiter));
  return std::nullopt;
}

Result<Json> EngineImpl::StartTask(TaskKind kind, const QueuedTask& task,
                                   const PollParams& params) {
  const auto stale = [] { return UnknownResource("stale task"); };
  RunState* run = FindRun(task.run_id);
  if (run == nullptr || !run->open) return stale();
  if (kind == TaskKind::kActivity) {
    auto it = run->activities.find(task.scheduled_event_id);
    if (it == run->activities.end() || it->second.started_event_id != 0) return stale();
    return StartActivityTask(*run, it->second, params);
  }
  return StartDecisionTask(*run, task.scheduled_event_id, params);
}

// --- lookups --------------------------------------------------------------------------

DomainState* EngineImpl::FindDomain(const std::string& name) {
  auto it = domains_.find(name);
  return it == domains_.end() ? nullptr : &it->second;
}

Result<DomainState*> EngineImpl::RequireDomain(const std::string& name) {
  DomainState* domain = FindDomain(name);
  if (domain == nullptr) return UnknownResource("Unknown domain: " + name);
  return domain;
}

RunState* EngineImpl::FindRun(const std::string& run_id) {
  auto it = runs_.find(run_id);
  return it == runs_.end() ? nullptr : &it->second;
}

namespace {
Status UnknownExecution(const std::string& workflow_id, const std::string& run_id) {
  std::string message = "Unknown execution: WorkflowExecution=[workflowId=" + workflow_id;
  if (!run_id.empty()) message += ", runId=" + run_id;
  return UnknownResource(message + "]");
}
}  // namespace

Result<RunState*> EngineImpl::RequireExecution(const std::string& domain, const Json& execution) {
  RETURN_IF_ERROR(RequireDomain(domain).status());
  const std::string workflow_id = StringOr(execution, "workflowId");
  const std::string run_id = StringOr(execution, "runId");
  RunState* run = FindRun(run_id);
  if (run == nullptr || run->domain != domain || run->workflow_id != workflow_id) {
    return UnknownExecution(workflow_id, run_id);
  }
  return run;
}

Result<RunState*> EngineImpl::RequireOpenRun(const std::string& domain_name,
                                             const std::string& workflow_id,
                                             const std::string& run_id) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(domain_name));
  RunState* run = nullptr;
  if (run_id.empty()) {
    auto it = domain->open_run_by_workflow_id.find(workflow_id);
    if (it != domain->open_run_by_workflow_id.end()) run = FindRun(it->second);
  } else {
    run = FindRun(run_id);
  }
  if (run == nullptr || run->domain != domain_name || run->workflow_id != workflow_id ||
      !run->open) {
    return UnknownExecution(workflow_id, run_id);
  }
  return run;
}

Result<RunState*> EngineImpl::RunForDecisionToken(const std::string& text) {
  // Built on failure only: the message is a heap string.
  const auto unknown = [] { return UnknownResource("Unknown or expired decision task token"); };
  auto token = DecodeTaskToken(text);
  if (!token || token->kind != TaskKind::kDecision) return unknown();
  RunState* run = FindRun(token->run_id);
  if (run == nullptr || !run->open) return unknown();
  const DecisionTaskState& decision = run->decision;
  if (decision.started_event_id == 0 || decision.started_event_id != token->started_event_id ||
      decision.scheduled_event_id != token->scheduled_event_id ||
      !SecretsEqual(decision.token_secret, token->secret)) {
    return unknown();
  }
  return run;
}

Result<std::pair<RunState*, ActivityTaskState*>> EngineImpl::ActivityForToken(
    const std::string& text) {
  const auto unknown = [] { return UnknownResource("Unknown or expired activity task token"); };
  auto token = DecodeTaskToken(text);
  if (!token || token->kind != TaskKind::kActivity) return unknown();
  RunState* run = FindRun(token->run_id);
  if (run == nullptr || !run->open) return unknown();
  auto it = run->activities.find(token->scheduled_event_id);
  if (it == run->activities.end()) return unknown();
  ActivityTaskState& activity = it->second;
  if (activity.started_event_id == 0 || activity.started_event_id != token->started_event_id ||
      !SecretsEqual(activity.token_secret, token->secret)) {
    return unknown();
  }
  return std::make_pair(run, &activity);
}

}  // namespace garcon::engine
