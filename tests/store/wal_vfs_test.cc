// The WAL-gathering VFS (src/store/wal_vfs.h): a commit's frames reach the
// file in a few writes; what SQLite wrote reads back, within a transaction
// and after reopening, whatever the size of the writes; a committed
// transaction survives the process ending without closing the file.
#include "store/wal_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "garcon/store.h"
#include "store/temp_db.h"

namespace garcon::store {
namespace {

// A connection through the VFS, as the SQLite store opens one under FULL.
class Db {
 public:
  explicit Db(const std::string& path) {
    const char* vfs = WalVfsName();
    EXPECT_NE(vfs, nullptr);
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
              SQLITE_OK);
    Exec("PRAGMA locking_mode=EXCLUSIVE");
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
    Exec("CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v BLOB)");
  }
  ~Db() { Close(); }
  void Close() {
    if (db_ != nullptr) sqlite3_close(db_);
    db_ = nullptr;
  }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }
  void Put(int key, const std::string& value) {
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO t VALUES(?1, ?2)", -1, &s, nullptr),
              SQLITE_OK);
    sqlite3_bind_int(s, 1, key);
    sqlite3_bind_blob(s, 2, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(s), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(s);
  }
  std::string Get(int key) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, "SELECT v FROM t WHERE k = ?1", -1, &s, nullptr), SQLITE_OK);
    sqlite3_bind_int(s, 1, key);
    std::string out = "<missing>";
    if (sqlite3_step(s) == SQLITE_ROW) {
      out.assign(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                 static_cast<std::size_t>(sqlite3_column_bytes(s, 0)));
    }
    sqlite3_finalize(s);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string Value(int key, std::size_t size) {
  std::string v(size, '\0');
  for (std::size_t i = 0; i < size; ++i) v[i] = static_cast<char>('a' + (key * 7 + i) % 26);
  return v;
}

TEST(WalVfsTest, ACommitOfManyPagesIsAFewWrites) {
  const std::string path = TempPath("wal-vfs-gather");
  RemoveDb(path);
  Db db(path);
  const WalVfsCounts before = GetWalVfsCounts();
  db.Exec("BEGIN");
  for (int k = 0; k < 40; ++k) db.Put(k, Value(k, 3000));  // about 40 pages
  db.Exec("COMMIT");
  const WalVfsCounts after = GetWalVfsCounts();
  const auto received = after.writes_received - before.writes_received;
  const auto issued = after.writes_issued - before.writes_issued;
  // SQLite: a header and a page per frame, 80 writes and more; to the file:
  // the frames in pieces of at most 120 KiB, and the WAL's header.
  EXPECT_GE(received, 80u);
  EXPECT_LE(issued, 4u) << received << " writes received";
  for (int k = 0; k < 40; ++k) EXPECT_EQ(db.Get(k), Value(k, 3000));
  db.Close();
  RemoveDb(path);
}

// Writes past SQLite's 128 KiB per write(2), including runs of exact
// multiples of 128 KiB, which SQLite's own VFS would report as a full disk
// if handed at once.
TEST(WalVfsTest, LargeTransactionsReadBackAfterReopening) {
  const std::string path = TempPath("wal-vfs-large");
  RemoveDb(path);
  {
    Db db(path);
    for (std::size_t size : {std::size_t{128} * 1024, std::size_t{256} * 1024,
                             std::size_t{3} * 1024 * 1024 + 17, std::size_t{100}}) {
      db.Exec("BEGIN");
      for (int k = 0; k < 5; ++k) db.Put(static_cast<int>(size % 1000) + k, Value(k, size));
      db.Exec("COMMIT");
    }
  }
  Db db(path);
  for (std::size_t size : {std::size_t{128} * 1024, std::size_t{256} * 1024,
                           std::size_t{3} * 1024 * 1024 + 17, std::size_t{100}}) {
    for (int k = 0; k < 5; ++k) {
      EXPECT_EQ(db.Get(static_cast<int>(size % 1000) + k), Value(k, size)) << size << " " << k;
    }
  }
  db.Close();
  RemoveDb(path);
}

// A transaction larger than the page cache spills pages to the WAL before
// its commit and reads them back: the reads see the gathered writes.
TEST(WalVfsTest, ATransactionReadsBackWhatItSpilled) {
  const std::string path = TempPath("wal-vfs-spill");
  RemoveDb(path);
  Db db(path);
  db.Exec("PRAGMA cache_size=10");
  db.Exec("BEGIN");
  for (int k = 0; k < 300; ++k) db.Put(k, Value(k, 1500));
  for (int k = 0; k < 300; k += 7) EXPECT_EQ(db.Get(k), Value(k, 1500)) << k;
  for (int k = 0; k < 300; k += 3) db.Put(k, Value(k + 1, 900));
  db.Exec("COMMIT");
  for (int k = 0; k < 300; ++k) {
    EXPECT_EQ(db.Get(k), k % 3 == 0 ? Value(k + 1, 900) : Value(k, 1500)) << k;
  }
  db.Close();
  RemoveDb(path);
}

// The SQLite store on FULL: a process that ends without closing the file
// (as a kill would) keeps every batch Apply returned for.
TEST(WalVfsTest, AppliedBatchesSurviveAProcessEndingWithoutClosing) {
  const std::string path = TempPath("wal-vfs-exit");
  RemoveDb(path);
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto store = OpenSqliteStore(path);
    if (!store.ok()) std::_Exit(2);
    for (int i = 0; i < 200; ++i) {
      Batch b;
      b.events = {{"r", i + 1, Value(i, 200 + 37 * i)}};
      if (!(*store)->Apply(b).ok()) std::_Exit(3);
    }
    std::_Exit(0);  // no close, no checkpoint
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto events = (*store)->ReadEvents("r", 1, 200);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ((*events)[i], Value(i, 200 + 37 * i)) << i;
  store->reset();
  RemoveDb(path);
}

}  // namespace
}  // namespace garcon::store
