// The embedded engine: an in-process implementation of Amazon SWF's rules
// (task lists, long polls, every timeout kind, decision-task batching,
// history) behind swf::Service. Time comes from an injectable Clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "garcon/clock.h"
#include "garcon/service.h"
#include "garcon/store.h"

namespace garcon::engine {

struct EngineOptions {
  // Defaults to the system clock.
  std::shared_ptr<Clock> clock;
  // How long a long poll is held before the empty-poll answer (SWF: 60 s).
  Duration poll_timeout = std::chrono::seconds(60);
  // Whether to run a background thread that fires deadlines on the system
  // clock. With a FakeClock, deadlines fire inside FakeClock::Advance and on
  // every call, so the thread is not needed; it is harmless either way.
  bool timer_thread = true;
  // Where state is journaled, so a restart resumes everything: open
  // executions, queued and started tasks, timers and every pending timeout
  // (deadlines that passed while the engine was down fire at once). Only
  // open runs stay in memory; closed ones are read back from the store.
  // With a durable store, concurrent calls share commits (group commit) and
  // each answer is released once its changes are durable. Null: nothing
  // survives the engine; closed runs are kept in an in-memory store.
  std::shared_ptr<store::Store> store;
};

class EngineImpl;

// Thread-safe. Destroying the engine answers every held poll with the
// empty-poll shape.
class Engine final : public swf::Service {
 public:
  // Throws std::runtime_error when the store cannot be loaded; Open reports
  // it as a Status instead.
  explicit Engine(EngineOptions options = {});
  static Result<std::unique_ptr<Engine>> Open(EngineOptions options);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Blocks for long polls, up to EngineOptions::poll_timeout.
  Result<Json> Call(std::string_view operation, const Json& request) override;

  using Callback = std::function<void(Result<Json>)>;
  using CallId = std::uint64_t;

  // Like Call, but never blocks: `done` runs exactly once with the response,
  // either before CallAsync returns or later on another thread (a task
  // arriving, the poll timing out, Cancel, Shutdown). Must not call back into
  // the engine from inside `done` while holding locks the engine may wait on.
  // Returns an id usable with Cancel.
  CallId CallAsync(std::string_view operation, const Json& request, Callback done);

  // Withdraws a held long poll (its client went away): no task is handed to
  // it afterwards, and `done` runs with the empty-poll shape. No effect if
  // the call already finished.
  void Cancel(CallId id);

  // Answers every held poll with the empty-poll shape and refuses new polls
  // the same way, so poll loops can end promptly. Other calls keep working.
  void Shutdown();

  // Fires every deadline that has passed on the clock. Calls do this on
  // their own; exposed for tests and tools.
  void FireDueTimers();

  // Waits until every change made so far is durable and the answers it held
  // are released. Calls need not use it; tests and tools do.
  void Flush();

  // Numbers for progress displays and metrics.
  struct Stats {
    std::size_t open_executions = 0;
    std::size_t closed_executions = 0;
    std::size_t queued_decision_tasks = 0;
    std::size_t queued_activity_tasks = 0;
    std::size_t poll_waiters = 0;
    // Runs held in memory: the open ones, and closed ones until their close
    // is durable.
    std::size_t resident_runs = 0;
    // Store transactions (each holds the changes of one or more operations)
    // and their total time.
    std::uint64_t store_commits = 0;
    double store_commit_seconds = 0;
  };
  Stats GetStats() const;

 private:
  std::unique_ptr<EngineImpl> impl_;
};

}  // namespace garcon::engine
