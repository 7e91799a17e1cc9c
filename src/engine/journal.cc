#include "engine/journal.h"

#include <chrono>
#include <future>
#include <utility>
#include <vector>

namespace garcon::engine {

Journal::Journal(std::shared_ptr<store::Store> store, bool async, OnDurable on_durable)
    : store_(std::move(store)), async_(async), on_durable_(std::move(on_durable)) {
  if (async_) {
    thread_ = std::thread([this] { Main(); });
    thread_id_ = thread_.get_id();
  }
}

Journal::~Journal() {
  if (!async_) {
    std::lock_guard lock(mu_);
    (void)ApplyWaitingLocked();
    return;
  }
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
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

Status Journal::Commit(std::span<store::Batch> batches) {
  const auto started = std::chrono::steady_clock::now();
  // The batches are the journal's and dropped after: the store may take them.
  Status status = store_->Consume(batches);
  commits_.fetch_add(1);
  commit_micros_.fetch_add(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                            started)
          .count()));
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
    job(*store_);
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
  Run([&done](store::Store&) { done.set_value(); });
  future.wait();
}

void Journal::Main() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is committed
    ProcessOne(lock);
  }
}

bool Journal::Pump() {
  std::unique_lock lock(mu_);
  if (queue_.empty()) return false;
  ProcessOne(lock);
  return true;
}

void Journal::ProcessOne(std::unique_lock<std::mutex>& lock) {
  if (queue_.front().seq == 0) {
    Job job = std::move(queue_.front().job);
    queue_.pop_front();
    lock.unlock();
    job(*store_);
    lock.lock();
    return;
  }
  // Consecutive batches share one transaction.
  std::vector<store::Batch> group;
  std::uint64_t last = 0;
  while (!queue_.empty() && queue_.front().seq != 0) {
    group.push_back(std::move(queue_.front().batch));
    last = queue_.front().seq;
    queue_.pop_front();
  }
  lock.unlock();
  Status status = failed_;
  if (status.ok()) {
    status = Commit(group);
    if (!status.ok()) failed_ = status;
  }
  on_durable_(last, status);
  lock.lock();
}

}  // namespace garcon::engine
