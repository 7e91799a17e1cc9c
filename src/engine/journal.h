// The commit pipeline between the engine and its store. The engine applies
// an operation to its state under its lock, turns what changed into a
// store::Batch and submits it here; the answers of that operation are held
// until the batch is durable. With a durable store, two threads of the
// journal's own make batches durable, neither ever under the engine's lock:
// - the writer writes every batch waiting in one transaction
//   (store::Store::Write), then the next group, without waiting for the
//   disk;
// - the reporter makes what was written durable (store::Store::Sync, one
//   fdatasync for every transaction written since the last) and reports
//   each durable sequence number through `on_durable`, in order.
// So a group's fdatasync overlaps the writing of the next group (group
// commit, pipelined). Jobs (reads of the store) run on the writer, in order
// with the batches; what a job returns runs on the reporter once every batch
// submitted before the job is durable: a reader never sees, through the
// store, a change that is not durable yet. Answers' callbacks run on the
// reporter only.
//
// With a store that is not durable (SQLite in memory: the closed runs of an
// engine without a store of the user's), batches are applied by the callers,
// many per transaction: a batch waits (kGroup at most) until the group is
// full or until a job (a read of the store) or Flush needs everything
// submitted before it. Nothing is durable there, so waiting loses nothing a
// caller was promised.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "garcon/store.h"

namespace garcon::engine {

class Journal {
 public:
  // Runs with the store, in order with the batches; what it returns (if
  // anything) runs once every batch submitted before the job is durable.
  using Then = std::function<void()>;
  using Job = std::function<Then(store::Store&)>;
  // Called on the reporter's thread, in order, once the batches up to `seq`
  // were made durable (status OK) or failed to (every later batch fails too).
  using OnDurable = std::function<void(std::uint64_t seq, const Status& status)>;

  Journal(std::shared_ptr<store::Store> store, bool async, OnDurable on_durable);
  // Commits what is queued, then stops the threads.
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  bool async() const { return async_; }

  // Queues `batch` and returns its sequence number (1, 2, ...). Not async:
  // applies it, or the group it completes, before returning and stores the
  // status of what was applied in `*applied` (OK when nothing was).
  std::uint64_t Submit(store::Batch batch, Status* applied);

  // Runs `job` with the store once every batch submitted before is written,
  // and what it returns once they are durable: on the journal's threads
  // (async), or both now on the caller's.
  void Run(Job job);

  // Blocks until every batch submitted so far is durable and reported.
  void Flush();

  // Whether the caller is the reporter's thread (inside an answer's callback).
  bool OnThread() const { return async_ && std::this_thread::get_id() == reporter_id_; }
  // On the reporter's thread only, so that a callback may wait for a call of
  // its own: makes what is written durable and reports it, or waits a little
  // for the writer. Returns whether anything was still in the pipeline.
  bool Pump();

  std::uint64_t submitted() const { return submitted_; }
  // Transactions written, and the time spent writing them.
  std::uint64_t commits() const { return commits_.load(); }
  double commit_seconds() const { return commit_micros_.load() / 1e6; }
  // Syncs (each makes every transaction written before it durable), and
  // the time they took.
  std::uint64_t syncs() const { return syncs_.load(); }
  double sync_seconds() const { return sync_micros_.load() / 1e6; }

 private:
  struct Item {
    std::uint64_t seq = 0;  // 0: a job
    store::Batch batch;
    Job job;
  };
  // Written (or failed to be), not yet durable and reported.
  struct Written {
    std::uint64_t seq = 0;  // 0: a job's continuation
    Status status;
    Then then;
  };
  // The batches a store that is not durable applies in one transaction.
  static constexpr std::size_t kGroup = 64;

  void WriterMain();
  void ReporterMain();
  // Writes `batches` in one transaction, counted and timed for stats.
  Status Commit(std::span<const store::Batch> batches);
  // Not async: applies the batches waiting; `mu_` held.
  Status ApplyWaitingLocked();
  // The writer: takes the leading job, or every batch up to the next job,
  // from the queue and processes it (unlocking meanwhile).
  void ProcessOne(std::unique_lock<std::mutex>& lock);
  // The reporter: syncs what was written, reports it and runs the jobs'
  // continuations (unlocking meanwhile).
  void SyncAndReport(std::unique_lock<std::mutex>& lock);

  const std::shared_ptr<store::Store> store_;
  const bool async_;
  const OnDurable on_durable_;
  // Written under the engine's lock only (Submit's callers hold it).
  std::uint64_t submitted_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;          // the writer waits on it
  std::condition_variable written_cv_;  // the reporter waits on it
  std::deque<Item> queue_;
  std::deque<Written> written_;
  bool writing_ = false;  // the writer holds items taken from the queue
  // The first failure (a write, a sync, or not async an apply): every later
  // batch fails with it.
  Status failed_;
  std::vector<store::Batch> waiting_;  // not async: submitted, not applied yet
  bool stop_ = false;                  // the writer: drain the queue, then stop
  bool writer_done_ = false;           // the reporter: drain what was written, then stop
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> commit_micros_{0};
  std::atomic<std::uint64_t> syncs_{0};
  std::atomic<std::uint64_t> sync_micros_{0};
  std::thread::id reporter_id_;
  std::thread writer_;
  std::thread reporter_;
};

}  // namespace garcon::engine
