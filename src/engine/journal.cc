#include "engine/journal.h"

#include <chrono>
#include <future>
#include <utility>
#include <vector>

namespace garcon::engine {

namespace {

std::uint64_t MicrosSince(std::chrono::steady_clock::time_point started) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now() - started)
                                        .count());
}

}  // namespace

Journal::Journal(std::shared_ptr<store::Store> store, bool async, OnDurable on_durable)
    : store_(std::move(store)), async_(async), on_durable_(std::move(on_durable)) {
  if (async_) {
    reporter_ = std::thread([this] { ReporterMain(); });
    reporter_id_ = reporter_.get_id();
    writer_ = std::thread([this] { WriterMain(); });
  }
}

Journal::~Journal() {
  if (!async_) {
    std::lock_guard lock(mu_);
    (void)ApplyWaitingLocked();
    return;
  }
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(mu_);
    writer_done_ = true;
  }
  written_cv_.notify_all();
  if (reporter_.joinable()) reporter_.join();
}

std::uint64_t Journal::Submit(store::Batch batch, Status* applied) {
  const std::uint64_t seq = ++submitted_;
  if (!async_) {
    std::lock_guard lock(mu_);
    // A payload is applied at once: batches of up to 16 MiB do not wait.
    const bool large = !batch.payloads.empty();
    waiting_.push_back(std::move(batch));
    if (large || waiting_.size() >= kGroup) (void)ApplyWaitingLocked();
    // A group that failed, here or before a job, fails the caller's batch too.
    *applied = failed_;
    return seq;
  }
  *applied = Status::Ok();
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Item{seq, std::move(batch), nullptr});
  }
  cv_.notify_one();
  return seq;
}

Status Journal::Commit(std::span<const store::Batch> batches) {
  const auto started = std::chrono::steady_clock::now();
  // Not async, the store is not durable: Write is all there is to do.
  Status status = store_->Write(batches);
  commits_.fetch_add(1);
  commit_micros_.fetch_add(MicrosSince(started));
  return status;
}

Status Journal::ApplyWaitingLocked() {
  if (waiting_.empty()) return Status::Ok();
  Status status = Commit(waiting_);
  waiting_.clear();
  if (!status.ok() && failed_.ok()) failed_ = status;
  return status;
}

void Journal::Run(Job job) {
  if (!async_) {
    {
      // Applied under `mu_`: a job never overtakes a group another caller is
      // applying. A failure here was the store's; the job reads it too.
      std::lock_guard lock(mu_);
      (void)ApplyWaitingLocked();
    }
    if (Then then = job(*store_)) then();
    return;
  }
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Item{0, store::Batch{}, std::move(job)});
  }
  cv_.notify_one();
}

void Journal::Flush() {
  if (!async_) {
    std::lock_guard lock(mu_);
    (void)ApplyWaitingLocked();
    return;
  }
  std::promise<void> done;
  auto future = done.get_future();
  Run([&done](store::Store&) -> Then { return [&done] { done.set_value(); }; });
  future.wait();
}

void Journal::WriterMain() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is written
    ProcessOne(lock);
  }
}

void Journal::ProcessOne(std::unique_lock<std::mutex>& lock) {
  writing_ = true;
  if (queue_.front().seq == 0) {
    Job job = std::move(queue_.front().job);
    queue_.pop_front();
    lock.unlock();
    Then then = job(*store_);
    lock.lock();
    written_.push_back(Written{0, Status::Ok(), std::move(then)});
  } else {
    // Consecutive batches share one transaction.
    std::vector<store::Batch> group;
    std::uint64_t last = 0;
    while (!queue_.empty() && queue_.front().seq != 0) {
      group.push_back(std::move(queue_.front().batch));
      last = queue_.front().seq;
      queue_.pop_front();
    }
    Status status = failed_;
    lock.unlock();
    if (status.ok()) status = Commit(group);
    group.clear();  // freed off the lock
    lock.lock();
    if (!status.ok() && failed_.ok()) failed_ = status;
    written_.push_back(Written{last, std::move(status), nullptr});
  }
  writing_ = false;
  written_cv_.notify_one();
}

void Journal::ReporterMain() {
  std::unique_lock lock(mu_);
  for (;;) {
    written_cv_.wait(lock, [&] { return writer_done_ || !written_.empty(); });
    if (written_.empty()) return;  // the writer stopped, and everything is reported
    SyncAndReport(lock);
  }
}

void Journal::SyncAndReport(std::unique_lock<std::mutex>& lock) {
  std::deque<Written> entries;
  entries.swap(written_);
  bool wrote = false;
  for (const Written& w : entries) wrote = wrote || (w.seq != 0 && w.status.ok());
  Status synced = failed_;
  lock.unlock();
  // One sync for every transaction written so far: each was written before
  // it began.
  if (wrote && synced.ok()) {
    const auto started = std::chrono::steady_clock::now();
    synced = store_->Sync();
    syncs_.fetch_add(1);
    sync_micros_.fetch_add(MicrosSince(started));
    if (!synced.ok()) {
      std::lock_guard failing(mu_);
      if (failed_.ok()) failed_ = synced;
    }
  }
  for (Written& w : entries) {
    if (w.seq != 0) on_durable_(w.seq, w.status.ok() ? synced : w.status);
    if (w.then) w.then();
  }
  entries.clear();  // the continuations' captures go off the lock
  lock.lock();
}

bool Journal::Pump() {
  std::unique_lock lock(mu_);
  if (!written_.empty()) {
    SyncAndReport(lock);
    return true;
  }
  if (queue_.empty() && !writing_) return false;
  written_cv_.wait_for(lock, std::chrono::milliseconds(1), [&] { return !written_.empty(); });
  return true;
}

}  // namespace garcon::engine
