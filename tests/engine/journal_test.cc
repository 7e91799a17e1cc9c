// The journal's pipelined group commit (src/engine/journal.h), on a real
// SQLite file whose Sync the test holds: a batch is reported durable only
// after a sync that began once it was written; the next group is written
// while a sync is under way; a job's continuation waits for the sync of what
// the job read; a failed sync fails its batches and every later one.
#include "engine/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/status_macros.h"
#include "garcon/store.h"

namespace garcon::engine {
namespace {

using namespace std::chrono_literals;

// A SQLite store whose Sync waits for the test to open a gate, and whose
// Write and Sync calls are recorded in order.
class GatedStore final : public store::Store {
 public:
  explicit GatedStore(std::shared_ptr<store::Store> inner) : inner_(std::move(inner)) {}

  Status Apply(std::span<const store::Batch> batches) override {
    RETURN_IF_ERROR(Write(batches));
    return Sync();
  }
  Status Write(std::span<const store::Batch> batches) override {
    Status status = inner_->Write(batches);
    std::lock_guard lock(mu_);
    std::string entry = "write";
    for (const auto& b : batches) entry += " " + b.runs.at(0).run_id;
    log_.push_back(entry);
    cv_.notify_all();
    return status;
  }
  Status Sync() override {
    std::unique_lock lock(mu_);
    log_.push_back("sync begins");
    ++syncing_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return gates_ > 0; });
    --gates_;
    --syncing_;
    log_.push_back("sync ends");
    cv_.notify_all();
    return fail_next_sync_ ? InternalError("the disk is gone") : inner_->Sync();
  }

  // Lets one sync return.
  void Open(bool fail = false) {
    std::lock_guard lock(mu_);
    fail_next_sync_ = fail;
    ++gates_;
    cv_.notify_all();
  }
  // Waits until the log holds `n` entries or more.
  std::vector<std::string> WaitForLog(std::size_t n) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, 10s, [&] { return log_.size() >= n; })) << Joined();
    return log_;
  }
  std::vector<std::string> Log() {
    std::lock_guard lock(mu_);
    return log_;
  }
  std::string Joined() {
    std::string out;
    for (const auto& e : log_) out += e + "; ";
    return out;
  }

  Result<std::vector<std::pair<std::string, std::string>>> LoadDomains() override {
    return inner_->LoadDomains();
  }
  Status LoadOpenRuns(
      const std::function<Status(store::RunRecord, std::vector<store::Part>)>& visit) override {
    return inner_->LoadOpenRuns(visit);
  }
  Result<store::Summary> Summarize() override { return inner_->Summarize(); }
  Result<std::optional<store::RunRecord>> FindRun(std::string_view run_id) override {
    return inner_->FindRun(run_id);
  }
  Result<std::vector<std::string>> ReadEvents(std::string_view run_id, std::int64_t first,
                                              std::int64_t last) override {
    return inner_->ReadEvents(run_id, first, last);
  }
  Result<std::vector<store::RunRecord>> ListClosed(const store::ClosedQuery& query,
                                                   std::size_t limit) override {
    return inner_->ListClosed(query, limit);
  }
  Result<std::size_t> CountClosed(const store::ClosedQuery& query) override {
    return inner_->CountClosed(query);
  }
  Result<store::PurgeResult> PurgeClosed(std::string_view domain, std::int64_t cutoff_us,
                                         std::size_t limit) override {
    return inner_->PurgeClosed(domain, cutoff_us, limit);
  }
  Result<std::optional<std::int64_t>> OldestClose(std::string_view domain) override {
    return inner_->OldestClose(domain);
  }
  Result<std::optional<std::string>> ReadPayload(std::string_view domain,
                                                 std::string_view key) override {
    return inner_->ReadPayload(domain, key);
  }
  Result<store::PurgeResult> PurgePayloads(std::string_view domain, std::int64_t before_us,
                                           std::int64_t margin_us, std::size_t limit) override {
    return inner_->PurgePayloads(domain, before_us, margin_us, limit);
  }
  bool durable() const override { return true; }

 private:
  std::shared_ptr<store::Store> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> log_;
  int gates_ = 0;
  int syncing_ = 0;
  bool fail_next_sync_ = false;
};

// One open run's row: enough for a batch the store applies.
store::Batch RunBatch(const std::string& run_id) {
  store::Batch batch;
  store::RunRecord run;
  run.run_id = run_id;
  run.domain = "d";
  run.workflow_id = "w-" + run_id;
  run.type_name = "t";
  run.type_version = "1";
  run.open = true;
  run.tags = "[]";
  run.state = "{}";
  batch.runs.push_back(std::move(run));
  return batch;
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("garcon-journal-test-" + std::to_string(::getpid()) + ".db"))
                .string();
    Remove();
    auto opened = store::OpenSqliteStore(path_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::make_shared<GatedStore>(*opened);
    journal_ = std::make_unique<Journal>(store_, /*async=*/true,
                                         [this](std::uint64_t seq, const Status& status) {
                                           std::lock_guard lock(mu_);
                                           reports_.emplace_back(seq, status.ok());
                                           cv_.notify_all();
                                         });
  }
  void TearDown() override {
    // Lets any sync still waiting through, so the journal drains and stops.
    for (int i = 0; i < 16; ++i) store_->Open();
    journal_.reset();
    store_.reset();
    Remove();
  }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
  }
  std::vector<std::pair<std::uint64_t, bool>> Reports() {
    std::lock_guard lock(mu_);
    return reports_;
  }
  std::vector<std::pair<std::uint64_t, bool>> WaitForReports(std::size_t n) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, 10s, [&] { return reports_.size() >= n; }));
    return reports_;
  }
  // Waits until `seq` is reported.
  std::vector<std::pair<std::uint64_t, bool>> WaitForSeq(std::uint64_t seq) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, 10s,
                             [&] { return !reports_.empty() && reports_.back().first >= seq; }));
    return reports_;
  }

  std::string path_;
  std::shared_ptr<GatedStore> store_;
  std::unique_ptr<Journal> journal_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::uint64_t, bool>> reports_;
};

TEST_F(JournalTest, ABatchIsDurableOnlyAfterASyncThatBeganOnceItWasWritten) {
  Status applied;
  EXPECT_EQ(journal_->Submit(RunBatch("r1"), &applied), 1u);
  EXPECT_TRUE(applied.ok());
  // Written, and its sync under way: not reported while the sync is held.
  EXPECT_EQ(store_->WaitForLog(2), (std::vector<std::string>{"write r1", "sync begins"}));
  // The next batch is written while that sync is held (the pipeline).
  journal_->Submit(RunBatch("r2"), &applied);
  EXPECT_EQ(store_->WaitForLog(3).back(), "write r2");
  std::this_thread::sleep_for(20ms);  // a wrong journal would report by now
  EXPECT_TRUE(Reports().empty());
  // The first sync began before r2 was written: it makes r1 durable only.
  store_->Open();
  EXPECT_EQ(WaitForReports(1), (std::vector<std::pair<std::uint64_t, bool>>{{1, true}}));
  EXPECT_EQ(store_->WaitForLog(5).back(), "sync begins");
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(Reports().size(), 1u);
  store_->Open();
  EXPECT_EQ(WaitForReports(2), (std::vector<std::pair<std::uint64_t, bool>>{{1, true}, {2, true}}));
  // What was written is in the file.
  auto found = store_->FindRun("r2");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->has_value());
}

TEST_F(JournalTest, BatchesWrittenDuringASyncShareTheNextOne) {
  Status applied;
  journal_->Submit(RunBatch("r1"), &applied);
  store_->WaitForLog(2);  // r1's sync is held
  for (const char* id : {"r2", "r3", "r4"}) journal_->Submit(RunBatch(id), &applied);
  // Written in one or more transactions while the sync is held.
  for (;;) {
    const auto log = store_->Log();
    if (log.back().find("r4") != std::string::npos) break;
    std::this_thread::sleep_for(1ms);
  }
  store_->Open();
  store_->Open();
  const auto reports = WaitForSeq(4);
  // One sync covers all three: the last report is seq 4, after two syncs.
  ASSERT_GE(reports.size(), 2u);
  EXPECT_EQ(reports.front(), (std::pair<std::uint64_t, bool>{1, true}));
  EXPECT_EQ(reports.back(), (std::pair<std::uint64_t, bool>{4, true}));
  int syncs = 0;
  for (const auto& e : store_->Log()) syncs += e == "sync ends";
  EXPECT_EQ(syncs, 2);
  EXPECT_EQ(journal_->syncs(), 2u);
}

TEST_F(JournalTest, AJobsContinuationWaitsForTheSyncOfWhatItRead) {
  Status applied;
  journal_->Submit(RunBatch("r1"), &applied);
  std::mutex mu;
  std::condition_variable cv;
  bool read = false;
  bool answered = false;
  bool saw_r1 = false;
  journal_->Run([&](store::Store& store) -> Journal::Then {
    auto found = store.FindRun("r1");
    {
      std::lock_guard lock(mu);
      saw_r1 = found.ok() && found->has_value();
      read = true;
    }
    cv.notify_all();
    return [&] {
      std::lock_guard lock(mu);
      answered = true;
      cv.notify_all();
    };
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return read; }));
    EXPECT_TRUE(saw_r1);  // written: the job reads it
  }
  std::this_thread::sleep_for(20ms);
  {
    std::lock_guard lock(mu);
    EXPECT_FALSE(answered);  // but r1's sync is held
  }
  store_->Open();
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return answered; }));
  EXPECT_EQ(Reports(), (std::vector<std::pair<std::uint64_t, bool>>{{1, true}}));
}

TEST_F(JournalTest, AFailedSyncFailsItsBatchesAndEveryLaterOne) {
  Status applied;
  journal_->Submit(RunBatch("r1"), &applied);
  store_->WaitForLog(2);
  store_->Open(/*fail=*/true);
  EXPECT_EQ(WaitForReports(1), (std::vector<std::pair<std::uint64_t, bool>>{{1, false}}));
  // Later batches are neither written nor reported durable.
  journal_->Submit(RunBatch("r2"), &applied);
  EXPECT_EQ(WaitForSeq(2).back(), (std::pair<std::uint64_t, bool>{2, false}));
  for (const auto& e : store_->Log()) EXPECT_NE(e, "write r2");
}

TEST_F(JournalTest, FlushReturnsOnceEverythingSubmittedIsDurable) {
  Status applied;
  journal_->Submit(RunBatch("r1"), &applied);
  journal_->Submit(RunBatch("r2"), &applied);
  std::thread opener([&] {
    store_->WaitForLog(2);
    std::this_thread::sleep_for(10ms);
    store_->Open();
    std::this_thread::sleep_for(10ms);
    store_->Open();
  });
  journal_->Flush();
  ASSERT_FALSE(Reports().empty());
  EXPECT_EQ(Reports().back(), (std::pair<std::uint64_t, bool>{2, true}));
  opener.join();
}

}  // namespace
}  // namespace garcon::engine
