// The store's contract, checked on the in-memory store and on a real SQLite
// file; reopening the file keeps what was applied; a file has one owner.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "garcon/store.h"
#include "store/temp_db.h"

namespace garcon::store {
namespace {

RunRecord Row(const std::string& id, std::int64_t start_us, std::uint64_t seq, bool open,
              std::int64_t close_us = 0, const std::string& status = "") {
  RunRecord r;
  r.run_id = id;
  r.domain = "d";
  r.workflow_id = "w-" + id;
  r.type_name = "wf";
  r.type_version = "1";
  r.start_us = start_us;
  r.start_seq = seq;
  r.open = open;
  r.close_us = close_us;
  r.close_status = status;
  r.tags = R"(["t-)" + id + R"("])";
  r.state = R"({"events":1})";
  return r;
}

std::vector<std::string> Ids(const std::vector<RunRecord>& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs) out.push_back(r.run_id);
  return out;
}

class StoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    path_ = TempPath(::testing::UnitTest::GetInstance()->current_test_info()->name());
    RemoveDb(path_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    RemoveDb(path_);
  }
  // Closes and reopens the SQLite file; the memory store stays as it is.
  void Reopen() {
    if (GetParam()) {
      store_.reset();
      auto opened = OpenSqliteStore(path_);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      store_ = *opened;
    } else if (!store_) {
      store_ = OpenMemoryStore();
    }
  }
  bool sqlite() const { return GetParam(); }

  // Closed runs c1..c5: started at 10..50, closed at 100, 90, 80, 70, 60.
  void AddClosed() {
    Batch b;
    for (int i = 1; i <= 5; ++i) {
      b.runs.push_back(Row("c" + std::to_string(i), i * 10, static_cast<std::uint64_t>(i), false,
                           110 - i * 10, i % 2 ? "COMPLETED" : "FAILED"));
    }
    b.runs.push_back(Row("o1", 60, 6, true));
    ASSERT_TRUE(store_->Apply(b).ok());
  }

  std::string path_;
  std::shared_ptr<Store> store_;
};

TEST_P(StoreTest, RunsAreUpsertedAndFound) {
  Batch b;
  b.runs = {Row("a", 1, 1, true)};
  ASSERT_TRUE(store_->Apply(b).ok());
  Batch c;
  c.runs = {Row("a", 1, 1, false, 5, "COMPLETED")};
  ASSERT_TRUE(store_->Apply(c).ok());
  auto found = store_->FindRun("a");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_FALSE((*found)->open);
  EXPECT_EQ((*found)->close_us, 5);
  EXPECT_EQ((*found)->close_status, "COMPLETED");
  EXPECT_EQ((*found)->workflow_id, "w-a");
  EXPECT_FALSE(store_->FindRun("missing")->has_value());
}

TEST_P(StoreTest, PartsAreUpsertedRemovedAndClearedAndLoadWithOpenRuns) {
  Batch b;
  b.runs = {Row("a", 1, 1, true), Row("b", 2, 2, true), Row("c", 3, 3, false, 9, "FAILED")};
  b.parts = {{"a", PartKind::kActivity, "5", "x"},
             {"a", PartKind::kTimer, "t", "y"},
             {"b", PartKind::kChild, "7", "z"}};
  ASSERT_TRUE(store_->Apply(b).ok());
  Batch c;
  c.parts = {{"a", PartKind::kActivity, "5", "x2"}};
  c.removed_parts = {{"a", PartKind::kTimer, "t"}};
  c.cleared_runs = {"b"};
  ASSERT_TRUE(store_->Apply(c).ok());
  Reopen();
  std::vector<std::string> runs;
  std::vector<Part> parts;
  ASSERT_TRUE(store_
                  ->LoadOpenRuns([&](RunRecord run, std::vector<Part> p) {
                    runs.push_back(run.run_id);
                    for (auto& part : p) parts.push_back(part);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(runs, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].run_id, "a");
  EXPECT_EQ(parts[0].kind, PartKind::kActivity);
  EXPECT_EQ(parts[0].value, "x2");
}

TEST_P(StoreTest, BatchesApplyInOrderInOneCall) {
  // A timer removed by one batch and started again by the next.
  std::vector<Batch> batches(3);
  batches[0].parts = {{"a", PartKind::kTimer, "t", "first"}};
  batches[1].removed_parts = {{"a", PartKind::kTimer, "t"}};
  batches[2].parts = {{"a", PartKind::kTimer, "t", "second"}};
  batches[2].runs = {Row("a", 1, 1, true)};
  ASSERT_TRUE(store_->Apply(batches).ok());
  std::vector<Part> parts;
  ASSERT_TRUE(store_
                  ->LoadOpenRuns([&](RunRecord, std::vector<Part> p) {
                    parts = p;
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].value, "second");
}

TEST_P(StoreTest, EventsAreReadByRange) {
  Batch b;
  for (int i = 1; i <= 5; ++i) b.events.push_back({"r1", i, "e" + std::to_string(i)});
  b.events.push_back({"r2", 1, "other"});
  ASSERT_TRUE(store_->Apply(b).ok());
  auto events = store_->ReadEvents("r1", 2, 4);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(*events, (std::vector<std::string>{"e2", "e3", "e4"}));
  EXPECT_EQ(store_->ReadEvents("r1", 5, 100)->size(), 1u);
  EXPECT_TRUE(store_->ReadEvents("missing", 1, 10)->empty());
}

TEST_P(StoreTest, ListsClosedRunsNewestFirstWithKeysetPages) {
  AddClosed();
  ClosedQuery q;
  q.domain = "d";
  EXPECT_EQ(Ids(*store_->ListClosed(q, 10)),
            (std::vector<std::string>{"c5", "c4", "c3", "c2", "c1"}));
  q.by_close_time = true;
  EXPECT_EQ(Ids(*store_->ListClosed(q, 10)),
            (std::vector<std::string>{"c1", "c2", "c3", "c4", "c5"}));
  q.reverse = true;
  EXPECT_EQ(Ids(*store_->ListClosed(q, 2)), (std::vector<std::string>{"c5", "c4"}));
  q.after = std::make_pair(std::int64_t{70}, std::uint64_t{4});
  EXPECT_EQ(Ids(*store_->ListClosed(q, 2)), (std::vector<std::string>{"c3", "c2"}));
  q = ClosedQuery{};
  q.domain = "d";
  q.oldest_us = 20;
  q.latest_us = 40;
  EXPECT_EQ(Ids(*store_->ListClosed(q, 10)), (std::vector<std::string>{"c4", "c3", "c2"}));
  EXPECT_EQ(*store_->CountClosed(q), 3u);
  // oldest after latest: nothing, not an error.
  q.oldest_us = 50;
  q.latest_us = 10;
  EXPECT_TRUE(store_->ListClosed(q, 10)->empty());
  EXPECT_EQ(*store_->CountClosed(q), 0u);
}

TEST_P(StoreTest, FiltersClosedRunsByEachFilter) {
  AddClosed();
  ClosedQuery base;
  base.domain = "d";
  ClosedQuery q = base;
  q.close_status = "FAILED";
  EXPECT_EQ(Ids(*store_->ListClosed(q, 10)), (std::vector<std::string>{"c4", "c2"}));
  q = base;
  q.tag = "t-c3";
  EXPECT_EQ(Ids(*store_->ListClosed(q, 10)), (std::vector<std::string>{"c3"}));
  q = base;
  q.workflow_id = "w-c2";
  EXPECT_EQ(*store_->CountClosed(q), 1u);
  q = base;
  q.type_name = "wf";
  EXPECT_EQ(*store_->CountClosed(q), 5u);
  q.type_version = "2";
  EXPECT_EQ(*store_->CountClosed(q), 0u);
  q = base;
  q.domain = "other";
  EXPECT_EQ(*store_->CountClosed(q), 0u);
}

TEST_P(StoreTest, PurgesClosedRunsInBoundedBatches) {
  AddClosed();
  Batch events;
  events.events = {{"c5", 1, "e"}, {"o1", 1, "e"}};
  events.parts = {{"o1", PartKind::kActivity, "1", "a"}};
  ASSERT_TRUE(store_->Apply(events).ok());
  EXPECT_EQ(**store_->OldestClose("d"), 60);
  auto first = store_->PurgeClosed("d", 80, 2);  // c5 (60) and c4 (70); c3 (80) waits
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->purged, 2u);
  EXPECT_TRUE(first->more);
  EXPECT_FALSE(store_->FindRun("c5")->has_value());
  EXPECT_TRUE(store_->ReadEvents("c5", 1, 1)->empty());
  auto second = store_->PurgeClosed("d", 80, 2);
  EXPECT_EQ(second->purged, 1u);
  EXPECT_FALSE(second->more);
  EXPECT_EQ(**store_->OldestClose("d"), 90);
  // Open runs are never purged.
  EXPECT_TRUE(store_->FindRun("o1")->has_value());
  EXPECT_EQ(store_->ReadEvents("o1", 1, 1)->size(), 1u);
  const Summary summary = *store_->Summarize();
  EXPECT_EQ(summary.closed_runs, 2u);
  EXPECT_EQ(summary.max_start_seq, 6u);
  EXPECT_FALSE(store_->OldestClose("none")->has_value());
}

TEST_P(StoreTest, KeepsTextExactly) {
  const std::string text = "quote ' \xC3\xA9 \"json\"\nend";
  Batch b;
  b.domains = {{"key with spaces", text}};
  b.events = {{"r", 1, text}};
  ASSERT_TRUE(store_->Apply(b).ok());
  Reopen();
  EXPECT_EQ((*store_->LoadDomains())[0].second, text);
  EXPECT_EQ((*store_->ReadEvents("r", 1, 1))[0], text);
}

TEST_P(StoreTest, ReopeningKeepsWhatWasApplied) {
  if (!sqlite()) GTEST_SKIP() << "the memory store is not durable";
  Batch b;
  b.runs = {Row("a", 1, 1, true)};
  b.events = {{"a", 1, "started"}};
  ASSERT_TRUE(store_->Apply(b).ok());
  Reopen();
  EXPECT_TRUE(store_->durable());
  EXPECT_TRUE(store_->FindRun("a")->has_value());
  EXPECT_EQ(store_->ReadEvents("a", 1, 1)->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(MemoryAndSqlite, StoreTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "Sqlite" : "Memory"; });

TEST(SqliteStoreTest, RefusesAFileThatIsNotAStore) {
  const std::string path = TempPath("not-a-store");
  {
    std::ofstream out(path);
    out << "this is not a database, just text long enough to have a header page............";
  }
  auto opened = OpenSqliteStore(path);
  EXPECT_FALSE(opened.ok());
  EXPECT_EQ(opened.fault(), Fault::kInternalFailure);
  EXPECT_NE(opened.status().message().find("not a database"), std::string::npos)
      << opened.status().message();
  RemoveDb(path);
}

TEST(SqliteStoreTest, RefusesAnUnopenablePath) {
  auto opened = OpenSqliteStore("/nonexistent-dir/x/y.db");
  EXPECT_FALSE(opened.ok());
  EXPECT_EQ(opened.fault(), Fault::kInternalFailure);
}

// A file of the first format (whole runs as records) is refused with a
// message that names both versions.
TEST(SqliteStoreTest, RefusesTheFirstFormatNamingBothVersions) {
  const std::string path = TempPath("format-1");
  RemoveDb(path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                         "INSERT INTO meta VALUES('schema_version', '1');"
                         "CREATE TABLE records(kind TEXT, key TEXT, value TEXT);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto opened = OpenSqliteStore(path);
  ASSERT_FALSE(opened.ok());
  const std::string message = opened.status().message();
  EXPECT_NE(message.find("format version 1"), std::string::npos) << message;
  EXPECT_NE(message.find("format version 2"), std::string::npos) << message;
  RemoveDb(path);
}

TEST(SqliteStoreTest, RefusesASQLiteFileOfSomethingElse) {
  const std::string path = TempPath("foreign");
  RemoveDb(path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE invoices(id INTEGER);", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto opened = OpenSqliteStore(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("not a Garcon store"), std::string::npos);
  RemoveDb(path);
}

TEST(SqliteStoreTest, FilesAreOwnerOnly) {
  const std::string path = TempPath("mode");
  RemoveDb(path);
  const mode_t old_mask = ::umask(022);
  {
    auto opened = OpenSqliteStore(path);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Batch b;
    b.events = {{"r", 1, "e"}};
    ASSERT_TRUE((*opened)->Apply(b).ok());
    for (const char* suffix : {"", "-wal"}) {
      struct stat st {};
      ASSERT_EQ(::stat((path + suffix).c_str(), &st), 0) << suffix;
      EXPECT_EQ(st.st_mode & 0777, 0600u) << path << suffix;
    }
    // The store's connection locks the file exclusively: its WAL index is
    // in the process's memory, with no -shm file for another to map.
    struct stat st {};
    EXPECT_NE(::stat((path + "-shm").c_str(), &st), 0);
  }
  ::umask(old_mask);
  RemoveDb(path);
}

TEST(SqliteStoreTest, AFileWithWiderModeIsRestrictedOnOpen) {
  const std::string path = TempPath("wide");
  RemoveDb(path);
  { auto opened = OpenSqliteStore(path); ASSERT_TRUE(opened.ok()); }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  {
    auto opened = OpenSqliteStore(path);
    ASSERT_TRUE(opened.ok());
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  RemoveDb(path);
}

TEST(SqliteStoreTest, ASecondOpenerIsRefusedNamingTheFile) {
  const std::string path = TempPath("owner");
  RemoveDb(path);
  auto first = OpenSqliteStore(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // In this process...
  auto second = OpenSqliteStore(path);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(path), std::string::npos);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();
  // ...and in another one.
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto other = OpenSqliteStore(path);
    const bool refused =
        !other.ok() && other.status().message().find("in use") != std::string::npos;
    std::_Exit(refused ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Once the owner closes the file, it opens again.
  first->reset();
  auto again = OpenSqliteStore(path);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
  again->reset();
  RemoveDb(path);
}

}  // namespace
}  // namespace garcon::store
