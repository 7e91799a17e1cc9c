// The same contract checked on the memory store and on a real SQLite file;
// reopening the file keeps what was applied.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "garcon/store.h"

namespace garcon::store {
namespace {

std::string TempPath(const std::string& name) {
  std::string file = name + "-" + std::to_string(getpid()) + ".db";
  for (char& c : file) c = c == '/' ? '_' : c;
  return (std::filesystem::temp_directory_path() / file).string();
}

void RemoveDb(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
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

  std::string path_;
  std::shared_ptr<Store> store_;
};

TEST_P(StoreTest, PutsOverwriteAndDeletesRemove) {
  Batch b;
  b.puts = {{"run", "b", "2"}, {"run", "a", "1"}, {"domain", "d", "x"}};
  ASSERT_TRUE(store_->Apply(b).ok());
  Batch c;
  c.puts = {{"run", "a", "one"}};
  c.deletes = {{"domain", "d"}};
  ASSERT_TRUE(store_->Apply(c).ok());
  auto runs = store_->Load("run");
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0], std::make_pair(std::string("a"), std::string("one")));
  EXPECT_EQ((*runs)[1], std::make_pair(std::string("b"), std::string("2")));
  EXPECT_TRUE(store_->Load("domain")->empty());
  EXPECT_TRUE(store_->Load("nothing")->empty());
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

  Batch purge;
  purge.purged_runs = {"r1"};
  ASSERT_TRUE(store_->Apply(purge).ok());
  EXPECT_TRUE(store_->ReadEvents("r1", 1, 10)->empty());
  EXPECT_EQ(store_->ReadEvents("r2", 1, 10)->size(), 1u);
}

TEST_P(StoreTest, KeepsTextExactly) {
  const std::string text = "quote ' \xC3\xA9 \"json\"\nend";
  Batch b;
  b.puts = {{"k", "key with spaces", text}};
  b.events = {{"r", 1, text}};
  ASSERT_TRUE(store_->Apply(b).ok());
  Reopen();
  EXPECT_EQ((*store_->Load("k"))[0].second, text);
  EXPECT_EQ((*store_->ReadEvents("r", 1, 1))[0], text);
}

TEST_P(StoreTest, ReopeningKeepsWhatWasApplied) {
  if (!sqlite()) GTEST_SKIP() << "the memory store is not durable";
  Batch b;
  b.puts = {{"run", "a", "1"}};
  b.events = {{"a", 1, "started"}};
  ASSERT_TRUE(store_->Apply(b).ok());
  Reopen();
  EXPECT_TRUE(store_->durable());
  ASSERT_EQ(store_->Load("run")->size(), 1u);
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

}  // namespace
}  // namespace garcon::store
