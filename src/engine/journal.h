// The commit pipeline between the engine and its store. The engine applies
// an operation to its state under its lock, turns what changed into a
// store::Batch and submits it here; the answers of that operation are held
// until the batch is durable. With a durable store, a thread of the journal's
// own commits every batch waiting, many per transaction and fsync (group
// commit), and reports each durable sequence number through `on_durable`;
// nothing here ever runs under the engine's lock. With a store that is not
// durable (the memory store: the closed runs of an engine without a store of
// the user's), batches are applied by the callers, many per transaction: a
// batch waits (kGroup at most) until the group is full or until a job (a
// read of the store) or Flush needs everything submitted before it. Nothing
// is durable there, so waiting loses nothing a caller was promised.
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
  using Job = std::function<void(store::Store&)>;
  // Called on the journal's thread, in order, once the batches up to `seq`
  // were committed (status OK) or failed to (every later batch fails too).
  using OnDurable = std::function<void(std::uint64_t seq, const Status& status)>;

  Journal(std::shared_ptr<store::Store> store, bool async, OnDurable on_durable);
  // Commits what is queued, then stops the thread.
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  bool async() const { return async_; }

  // Queues `batch` and returns its sequence number (1, 2, ...). Not async:
  // applies it, or the group it completes, before returning and stores the
  // status of what was applied in `*applied` (OK when nothing was).
  std::uint64_t Submit(store::Batch batch, Status* applied);

  // Runs `job` with the store once every batch submitted before is durable:
  // on the journal's thread (async), or now on the caller's.
  void Run(Job job);

  // Blocks until every batch submitted so far is durable and reported.
  void Flush();

  // Whether the caller is the journal's thread (inside an answer's callback).
  bool OnThread() const { return async_ && std::this_thread::get_id() == thread_id_; }
  // On the journal's thread only: commits or runs the next queued item, so a
  // callback may wait for a call of its own. Returns whether there was one.
  bool Pump();

  std::uint64_t submitted() const { return submitted_; }
  std::uint64_t commits() const { return commits_.load(); }
  double commit_seconds() const { return commit_micros_.load() / 1e6; }

 private:
  struct Item {
    std::uint64_t seq = 0;  // 0: a job
    store::Batch batch;
    Job job;
  };
  // The batches a store that is not durable applies in one transaction.
  static constexpr std::size_t kGroup = 64;

  void Main();
  // Applies `batches` in one transaction, counted and timed for stats.
  Status Commit(std::span<store::Batch> batches);
  // Not async: applies the batches waiting; `mu_` held.
  Status ApplyWaitingLocked();
  // Takes the leading job, or every batch up to the next job, from the queue
  // and processes it (unlocking meanwhile).
  void ProcessOne(std::unique_lock<std::mutex>& lock);

  const std::shared_ptr<store::Store> store_;
  const bool async_;
  const OnDurable on_durable_;
  // Written under the engine's lock only (Submit's callers hold it).
  std::uint64_t submitted_ = 0;
  // The first failed commit: the journal thread's (async), else under mu_.
  Status failed_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::vector<store::Batch> waiting_;  // not async: submitted, not applied yet
  bool stop_ = false;
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> commit_micros_{0};
  std::thread::id thread_id_;
  std::thread thread_;
};

}  // namespace garcon::engine
