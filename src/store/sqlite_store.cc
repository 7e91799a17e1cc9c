// The SQLite store: one file in WAL mode.
// Schema and format: docs/storage.md.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
#include <variant>

#include "base/status_macros.h"
#include "garcon/store.h"
#include "store/wal_vfs.h"

namespace garcon::store {
namespace {

constexpr int kFormatVersion = 2;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS domains (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  type_name TEXT NOT NULL,
  type_version TEXT NOT NULL,
  start_us INTEGER NOT NULL,
  start_seq INTEGER NOT NULL,
  open INTEGER NOT NULL,
  close_us INTEGER,
  close_status TEXT,
  tags TEXT NOT NULL,
  state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_open ON runs(start_seq) WHERE open = 1;
CREATE INDEX IF NOT EXISTS runs_closed_by_start ON runs(domain, start_us, start_seq) WHERE open = 0;
CREATE INDEX IF NOT EXISTS runs_closed_by_close ON runs(domain, close_us, start_seq) WHERE open = 0;
CREATE INDEX IF NOT EXISTS runs_by_workflow ON runs(domain, workflow_id, start_seq);
CREATE TABLE IF NOT EXISTS parts (
  run_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  run_id TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (run_id, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS payloads (
  domain TEXT NOT NULL,
  key TEXT NOT NULL,
  put_us INTEGER NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY (domain, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS payloads_by_put ON payloads(domain, put_us);
)sql";

constexpr const char* kRunColumns =
    "run_id, domain, workflow_id, type_name, type_version, start_us, start_seq, open, "
    "close_us, close_status, tags, state";

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) {
    sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  bool ok() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Binds without a copy (SQLITE_STATIC): `text` must outlive the statement's
// steps. Every statement here is stepped right after its binding and reset
// before the bound text goes away, and bound again before its next step.
void BindText(sqlite3_stmt* s, int i, std::string_view text) {
  sqlite3_bind_text(s, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

RunRecord ReadRun(sqlite3_stmt* s) {
  RunRecord r;
  r.run_id = ColumnText(s, 0);
  r.domain = ColumnText(s, 1);
  r.workflow_id = ColumnText(s, 2);
  r.type_name = ColumnText(s, 3);
  r.type_version = ColumnText(s, 4);
  r.start_us = sqlite3_column_int64(s, 5);
  r.start_seq = static_cast<std::uint64_t>(sqlite3_column_int64(s, 6));
  r.open = sqlite3_column_int(s, 7) != 0;
  r.close_us = sqlite3_column_int64(s, 8);
  r.close_status = ColumnText(s, 9);
  r.tags = ColumnText(s, 10);
  r.state = ColumnText(s, 11);
  return r;
}

using Value = std::variant<std::int64_t, std::string>;

void BindAll(sqlite3_stmt* s, const std::vector<Value>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const int index = static_cast<int>(i + 1);
    if (const auto* n = std::get_if<std::int64_t>(&values[i])) {
      sqlite3_bind_int64(s, index, *n);
    } else {
      BindText(s, index, std::get<std::string>(values[i]));
    }
  }
}

// The WHERE clause of a closed-run query (without paging), and its values.
std::string ClosedWhere(const ClosedQuery& q, std::vector<Value>* values) {
  const char* time = q.by_close_time ? "close_us" : "start_us";
  std::string sql = std::string(" WHERE domain = ? AND open = 0 AND ") + time + " >= ?";
  values->push_back(q.domain);
  values->push_back(q.oldest_us);
  if (q.latest_us) {
    sql += std::string(" AND ") + time + " <= ?";
    values->push_back(*q.latest_us);
  }
  if (q.workflow_id) {
    sql += " AND workflow_id = ?";
    values->push_back(*q.workflow_id);
  }
  if (q.type_name) {
    sql += " AND type_name = ?";
    values->push_back(*q.type_name);
    if (q.type_version) {
      sql += " AND type_version = ?";
      values->push_back(*q.type_version);
    }
  }
  if (q.tag) {
    sql += " AND EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE json_each.value = ?)";
    values->push_back(*q.tag);
  }
  if (q.close_status) {
    sql += " AND close_status = ?";
    values->push_back(*q.close_status);
  }
  return sql;
}

// An exclusive advisory lock on the database file, held while the store is
// open. flock(2) locks are separate from SQLite's own fcntl(2) locks; the
// descriptor stays open until after SQLite closes the file, since closing
// any descriptor of a file drops the process's fcntl locks on it.
class FileLock {
 public:
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      return InternalError("store: cannot open " + path + ": " + std::strerror(errno));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return InternalError("store: " + path +
                             " is in use by another engine (a garcon server or a flow's "
                             "run --db holds it); stop it or use another file");
      }
      return InternalError("store: cannot lock " + path + ": " + std::strerror(errno));
    }
    // The file holds live task-token secrets: owner only.
    if (::fchmod(fd_, 0600) != 0) {
      return InternalError("store: cannot restrict " + path + " to its owner: " +
                           std::strerror(errno));
    }
    return Status::Ok();
  }

 private:
  int fd_ = -1;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite3* db, std::unique_ptr<FileLock> lock)
      : db_(db), lock_(std::move(lock)) {}
  ~SqliteStore() override {
    statements_.clear();
    sqlite3_close(db_);
    lock_.reset();  // after SQLite has closed the file
  }

  Status Init(const std::string& path, const SqliteOptions& options) {
    // The file has one owner (FileLock): SQLite's locks are taken once, not
    // per transaction, and the WAL's index is kept in this process's memory
    // rather than in a shared -shm file. Before journal_mode, so that no
    // -shm is ever made (docs/storage.md, "Commits").
    RETURN_IF_ERROR(Exec("PRAGMA locking_mode=EXCLUSIVE"));
    RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    RETURN_IF_ERROR(Exec(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                  : "PRAGMA synchronous=NORMAL"));
    sqlite3_busy_timeout(db_, 5000);
    // One transaction: a kill while a new file is created leaves either no
    // tables or all of them with the format version, never a file that a
    // reopen would refuse as of an unknown format.
    const Status created = InTransaction([&] {
      RETURN_IF_ERROR(CheckFormat(path));
      RETURN_IF_ERROR(Exec(kSchema));
      return Exec("INSERT OR IGNORE INTO meta(key, value) VALUES('format_version', '" +
                  std::to_string(kFormatVersion) + "')");
    });
    if (!created.ok()) return created;
    // SQLite gives -wal the main file's mode; it exists now. (A -shm left by
    // an earlier version, which used one, is restricted too.)
    for (const char* suffix : {"-wal", "-shm"}) ::chmod((path + suffix).c_str(), 0600);
    upsert_domain_ = Prepare(
        "INSERT INTO domains(name, value) VALUES(?1, ?2) "
        "ON CONFLICT(name) DO UPDATE SET value = excluded.value");
    upsert_run_ = Prepare(
        std::string("INSERT INTO runs(") + kRunColumns +
        ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
        "ON CONFLICT(run_id) DO UPDATE SET domain = excluded.domain, workflow_id = "
        "excluded.workflow_id, type_name = excluded.type_name, type_version = "
        "excluded.type_version, start_us = excluded.start_us, start_seq = excluded.start_seq, "
        "open = excluded.open, close_us = excluded.close_us, close_status = "
        "excluded.close_status, tags = excluded.tags, state = excluded.state");
    update_state_ = Prepare("UPDATE runs SET state = ?2 WHERE run_id = ?1");
    clear_parts_ = Prepare("DELETE FROM parts WHERE run_id = ?1");
    upsert_part_ = Prepare(
        "INSERT INTO parts(run_id, kind, key, value) VALUES(?1, ?2, ?3, ?4) "
        "ON CONFLICT(run_id, kind, key) DO UPDATE SET value = excluded.value");
    delete_part_ = Prepare("DELETE FROM parts WHERE run_id = ?1 AND kind = ?2 AND key = ?3");
    insert_event_ =
        Prepare("INSERT OR REPLACE INTO events(run_id, event_id, body) VALUES(?1, ?2, ?3)");
    delete_events_ = Prepare("DELETE FROM events WHERE run_id = ?1");
    delete_run_ = Prepare("DELETE FROM runs WHERE run_id = ?1");
    find_run_ = Prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = ?1");
    read_events_ = Prepare(
        "SELECT body FROM events WHERE run_id = ?1 AND event_id BETWEEN ?2 AND ?3 "
        "ORDER BY event_id");
    run_parts_ = Prepare("SELECT kind, key, value FROM parts WHERE run_id = ?1");
    upsert_payload_ = Prepare(
        "INSERT INTO payloads(domain, key, put_us, body) VALUES(?1, ?2, ?3, ?4) "
        "ON CONFLICT(domain, key) DO UPDATE SET put_us = MAX(put_us, excluded.put_us)");
    read_payload_ = Prepare("SELECT body FROM payloads WHERE domain = ?1 AND key = ?2");
    delete_payload_ = Prepare("DELETE FROM payloads WHERE domain = ?1 AND key = ?2");
    begin_ = Prepare("BEGIN IMMEDIATE");
    commit_ = Prepare("COMMIT");
    rollback_ = Prepare("ROLLBACK");
    for (const auto& s : statements_) {
      if (!s->ok()) return Error("preparing statements");
    }
    return Status::Ok();
  }

  Status Apply(std::span<const Batch> batches) override {
    std::lock_guard lock(mu_);
    bool any = false;
    for (const Batch& b : batches) any = any || !b.empty();
    if (!any) return Status::Ok();
    return InTransaction([&] {
      for (const Batch& b : batches) RETURN_IF_ERROR(ApplyLocked(b));
      return Status::Ok();
    });
  }

  Result<std::vector<std::pair<std::string, std::string>>> LoadDomains() override {
    std::lock_guard lock(mu_);
    Statement s(db_, "SELECT name, value FROM domains ORDER BY name");
    if (!s.ok()) return Error("loading domains");
    std::vector<std::pair<std::string, std::string>> out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      out.emplace_back(ColumnText(s.get(), 0), ColumnText(s.get(), 1));
    }
    if (rc != SQLITE_DONE) return Error("loading domains");
    return out;
  }

  Status LoadOpenRuns(const std::function<Status(RunRecord, std::vector<Part>)>& visit) override {
    std::lock_guard lock(mu_);
    Statement s(db_, std::string("SELECT ") + kRunColumns +
                         " FROM runs WHERE open = 1 ORDER BY start_seq");
    if (!s.ok()) return Error("loading open runs");
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      RunRecord run = ReadRun(s.get());
      std::vector<Part> parts;
      sqlite3_stmt* p = Reset(*run_parts_);
      BindText(p, 1, run.run_id);
      int prc;
      while ((prc = sqlite3_step(p)) == SQLITE_ROW) {
        parts.push_back(Part{run.run_id, static_cast<PartKind>(sqlite3_column_int(p, 0)),
                             ColumnText(p, 1), ColumnText(p, 2)});
      }
      sqlite3_reset(p);
      if (prc != SQLITE_DONE) return Error("loading a run's parts");
      RETURN_IF_ERROR(visit(std::move(run), std::move(parts)));
    }
    if (rc != SQLITE_DONE) return Error("loading open runs");
    return Status::Ok();
  }

  Result<Summary> Summarize() override {
    std::lock_guard lock(mu_);
    Summary summary;
    {
      Statement s(db_, "SELECT COALESCE(MAX(start_seq), 0) FROM runs");
      if (!s.ok() || sqlite3_step(s.get()) != SQLITE_ROW) return Error("summarizing");
      summary.max_start_seq = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 0));
    }
    {
      Statement s(db_, "SELECT COUNT(*) FROM runs WHERE open = 0");
      if (!s.ok() || sqlite3_step(s.get()) != SQLITE_ROW) return Error("summarizing");
      summary.closed_runs = static_cast<std::size_t>(sqlite3_column_int64(s.get(), 0));
    }
    return summary;
  }

  Result<std::optional<RunRecord>> FindRun(std::string_view run_id) override {
    std::lock_guard lock(mu_);
    sqlite3_stmt* s = Reset(*find_run_);
    BindText(s, 1, run_id);
    const int rc = sqlite3_step(s);
    std::optional<RunRecord> out;
    if (rc == SQLITE_ROW) out = ReadRun(s);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("reading a run");
    return out;
  }

  Result<std::vector<std::string>> ReadEvents(std::string_view run_id, std::int64_t first,
                                              std::int64_t last) override {
    std::lock_guard lock(mu_);
    sqlite3_stmt* s = Reset(*read_events_);
    BindText(s, 1, run_id);
    sqlite3_bind_int64(s, 2, first);
    sqlite3_bind_int64(s, 3, last);
    std::vector<std::string> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(ColumnText(s, 0));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return Error("reading events");
    return out;
  }

  Result<std::vector<RunRecord>> ListClosed(const ClosedQuery& q, std::size_t limit) override {
    std::vector<Value> values;
    std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs" + ClosedWhere(q, &values);
    const char* time = q.by_close_time ? "close_us" : "start_us";
    if (q.after) {
      sql += std::string(" AND (") + time + ", start_seq) " + (q.reverse ? ">" : "<") + " (?, ?)";
      values.push_back(q.after->first);
      values.push_back(static_cast<std::int64_t>(q.after->second));
    }
    const char* order = q.reverse ? " ASC" : " DESC";
    sql += std::string(" ORDER BY ") + time + order + ", start_seq" + order + " LIMIT ?";
    values.push_back(static_cast<std::int64_t>(limit));
    std::lock_guard lock(mu_);
    Statement s(db_, sql);
    if (!s.ok()) return Error("listing closed runs");
    BindAll(s.get(), values);
    std::vector<RunRecord> out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(ReadRun(s.get()));
    if (rc != SQLITE_DONE) return Error("listing closed runs");
    return out;
  }

  Result<std::size_t> CountClosed(const ClosedQuery& q) override {
    std::vector<Value> values;
    const std::string sql = "SELECT COUNT(*) FROM runs" + ClosedWhere(q, &values);
    std::lock_guard lock(mu_);
    Statement s(db_, sql);
    if (!s.ok()) return Error("counting closed runs");
    BindAll(s.get(), values);
    if (sqlite3_step(s.get()) != SQLITE_ROW) return Error("counting closed runs");
    return static_cast<std::size_t>(sqlite3_column_int64(s.get(), 0));
  }

  Result<PurgeResult> PurgeClosed(std::string_view domain, std::int64_t cutoff_us,
                                  std::size_t limit) override {
    std::lock_guard lock(mu_);
    return PurgeSelected(
        "SELECT run_id FROM runs WHERE domain = ?1 AND open = 0 AND close_us <= ?2 "
        "ORDER BY close_us LIMIT ?3",
        {std::string(domain), cutoff_us}, limit, "purging", [&](const std::string& id) {
          for (Statement* st : {delete_events_, clear_parts_, delete_run_}) {
            RETURN_IF_ERROR(Step(*st, [&](sqlite3_stmt* s) { BindText(s, 1, id); }));
          }
          return Status::Ok();
        });
  }

  Result<std::optional<std::int64_t>> OldestClose(std::string_view domain) override {
    std::lock_guard lock(mu_);
    Statement s(db_, "SELECT MIN(close_us) FROM runs WHERE domain = ?1 AND open = 0");
    if (!s.ok()) return Error("reading the oldest close");
    BindText(s.get(), 1, domain);
    if (sqlite3_step(s.get()) != SQLITE_ROW) return Error("reading the oldest close");
    if (sqlite3_column_type(s.get(), 0) == SQLITE_NULL) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(sqlite3_column_int64(s.get(), 0));
  }

  Result<std::optional<std::string>> ReadPayload(std::string_view domain,
                                                 std::string_view key) override {
    std::lock_guard lock(mu_);
    sqlite3_stmt* s = Reset(*read_payload_);
    BindText(s, 1, domain);
    BindText(s, 2, key);
    const int rc = sqlite3_step(s);
    std::optional<std::string> out;
    if (rc == SQLITE_ROW) {
      const auto* data = static_cast<const char*>(sqlite3_column_blob(s, 0));
      out.emplace(data == nullptr ? "" : std::string(data, static_cast<std::size_t>(
                                                               sqlite3_column_bytes(s, 0))));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("reading a payload");
    return out;
  }

  Result<PurgeResult> PurgePayloads(std::string_view domain, std::int64_t before_us,
                                    std::int64_t margin_us, std::size_t limit) override {
    std::lock_guard lock(mu_);
    std::int64_t cutoff = before_us;
    {
      Statement s(db_, "SELECT MIN(start_us) FROM runs WHERE domain = ?1");
      if (!s.ok()) return Error("purging payloads");
      BindText(s.get(), 1, domain);
      if (sqlite3_step(s.get()) != SQLITE_ROW) return Error("purging payloads");
      if (sqlite3_column_type(s.get(), 0) != SQLITE_NULL) {
        cutoff = std::min<std::int64_t>(cutoff, sqlite3_column_int64(s.get(), 0));
      }
    }
    cutoff -= margin_us;
    return PurgeSelected(
        "SELECT key FROM payloads WHERE domain = ?1 AND put_us < ?2 ORDER BY put_us LIMIT ?3",
        {std::string(domain), cutoff}, limit, "purging payloads", [&](const std::string& key) {
          return Step(*delete_payload_, [&](sqlite3_stmt* s) {
            BindText(s, 1, domain);
            BindText(s, 2, key);
          });
        });
  }

  bool durable() const override { return true; }

 private:
  // Refuses a file of another format or that is not a Garcon store.
  Status CheckFormat(const std::string& path) {
    Statement tables(db_, "SELECT name FROM sqlite_master WHERE type = 'table'");
    if (!tables.ok()) return Error("reading " + path);
    bool has_meta = false;
    bool has_tables = false;
    int rc;
    while ((rc = sqlite3_step(tables.get())) == SQLITE_ROW) {
      has_tables = true;
      if (ColumnText(tables.get(), 0) == "meta") has_meta = true;
    }
    if (rc != SQLITE_DONE) return Error("reading " + path);
    if (!has_tables) return Status::Ok();  // a new file
    if (!has_meta) return InternalError("store: " + path + " is not a Garcon store");
    Statement s(db_, "SELECT key, value FROM meta WHERE key IN ('format_version', 'schema_version')");
    if (!s.ok()) return Error("reading the format version of " + path);
    std::string version;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) version = ColumnText(s.get(), 1);
    if (version != std::to_string(kFormatVersion)) {
      return InternalError(
          "store: " + path + " has format version " + (version.empty() ? "unknown" : version) +
          "; this Garcon reads format version " + std::to_string(kFormatVersion) +
          " only (format 1 kept whole runs in memory: finish or terminate its open workflows "
          "with the Garcon that wrote it, then start on a new file)");
    }
    return Status::Ok();
  }

  Status ApplyLocked(const Batch& batch) {
    // Pairs, not structured bindings: clang 14 (the fuzz and ASan build)
    // cannot capture a structured binding in a lambda.
    for (const auto& domain : batch.domains) {
      RETURN_IF_ERROR(Step(*upsert_domain_, [&](sqlite3_stmt* s) {
        BindText(s, 1, domain.first);
        BindText(s, 2, domain.second);
      }));
    }
    for (const RunRecord& r : batch.runs) {
      RETURN_IF_ERROR(Step(*upsert_run_, [&](sqlite3_stmt* s) {
        BindText(s, 1, r.run_id);
        BindText(s, 2, r.domain);
        BindText(s, 3, r.workflow_id);
        BindText(s, 4, r.type_name);
        BindText(s, 5, r.type_version);
        sqlite3_bind_int64(s, 6, r.start_us);
        sqlite3_bind_int64(s, 7, static_cast<std::int64_t>(r.start_seq));
        sqlite3_bind_int(s, 8, r.open ? 1 : 0);
        if (r.open) {
          sqlite3_bind_null(s, 9);
          sqlite3_bind_null(s, 10);
        } else {
          sqlite3_bind_int64(s, 9, r.close_us);
          BindText(s, 10, r.close_status);
        }
        BindText(s, 11, r.tags);
        BindText(s, 12, r.state);
      }));
    }
    for (const auto& run_state : batch.run_states) {
      RETURN_IF_ERROR(Step(*update_state_, [&](sqlite3_stmt* s) {
        BindText(s, 1, run_state.first);
        BindText(s, 2, run_state.second);
      }));
    }
    for (const auto& run_id : batch.cleared_runs) {
      RETURN_IF_ERROR(Step(*clear_parts_, [&](sqlite3_stmt* s) { BindText(s, 1, run_id); }));
    }
    for (const Part& p : batch.parts) {
      RETURN_IF_ERROR(Step(*upsert_part_, [&](sqlite3_stmt* s) {
        BindText(s, 1, p.run_id);
        sqlite3_bind_int(s, 2, static_cast<int>(p.kind));
        BindText(s, 3, p.key);
        BindText(s, 4, p.value);
      }));
    }
    for (const PartKey& p : batch.removed_parts) {
      RETURN_IF_ERROR(Step(*delete_part_, [&](sqlite3_stmt* s) {
        BindText(s, 1, p.run_id);
        sqlite3_bind_int(s, 2, static_cast<int>(p.kind));
        BindText(s, 3, p.key);
      }));
    }
    for (const Event& e : batch.events) {
      RETURN_IF_ERROR(Step(*insert_event_, [&](sqlite3_stmt* s) {
        BindText(s, 1, e.run_id);
        sqlite3_bind_int64(s, 2, e.event_id);
        BindText(s, 3, e.body);
      }));
    }
    for (const Payload& p : batch.payloads) {
      RETURN_IF_ERROR(Step(*upsert_payload_, [&](sqlite3_stmt* s) {
        BindText(s, 1, p.domain);
        BindText(s, 2, p.key);
        sqlite3_bind_int64(s, 3, p.put_us);
        sqlite3_bind_blob64(s, 4, p.body.data(), p.body.size(), SQLITE_STATIC);
      }));
    }
    return Status::Ok();
  }

  // Runs `body` in one transaction: committed if it succeeds, else rolled
  // back. `mu_` held (or the store not shared yet: Init).
  Status InTransaction(const std::function<Status()>& body) {
    RETURN_IF_ERROR(Control(begin_, "BEGIN IMMEDIATE"));
    Status status = body();
    if (status.ok()) status = Control(commit_, "COMMIT");
    if (!status.ok()) (void)Control(rollback_, "ROLLBACK");
    return status;
  }

  // Runs a transaction's BEGIN, COMMIT or ROLLBACK: its prepared statement
  // once Init has prepared them (the journal commits a group of calls
  // thousands of times a second; sqlite3_exec would parse the text each
  // time), `sql` itself before.
  Status Control(Statement* st, const char* sql) {
    if (st == nullptr) return Exec(sql);
    sqlite3_stmt* s = st->get();
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? Status::Ok() : Error(sql);
  }

  // Selects with `select` (bound to `values`, then the limit as the last
  // parameter) at most `limit` keys plus one, to tell whether more remain,
  // and calls `remove` on each of the first `limit` in one transaction.
  // `mu_` held.
  Result<PurgeResult> PurgeSelected(const std::string& select, std::vector<Value> values,
                                    std::size_t limit, const char* what,
                                    const std::function<Status(const std::string&)>& remove) {
    std::vector<std::string> keys;
    {
      Statement s(db_, select);
      if (!s.ok()) return Error(what);
      values.emplace_back(static_cast<std::int64_t>(limit) + 1);
      BindAll(s.get(), values);
      int rc;
      while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) keys.push_back(ColumnText(s.get(), 0));
      if (rc != SQLITE_DONE) return Error(what);
    }
    PurgeResult result;
    result.more = keys.size() > limit;
    if (result.more) keys.pop_back();
    if (keys.empty()) return result;
    const Status removed = InTransaction([&] {
      for (const auto& key : keys) RETURN_IF_ERROR(remove(key));
      return Status::Ok();
    });
    if (!removed.ok()) return removed;
    result.purged = keys.size();
    return result;
  }

  Statement* Prepare(const std::string& sql) {
    statements_.push_back(std::make_unique<Statement>(db_, sql));
    return statements_.back().get();
  }

  static sqlite3_stmt* Reset(Statement& st) {
    sqlite3_stmt* s = st.get();
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
  }

  template <typename Bind>
  Status Step(Statement& st, Bind&& bind) {
    sqlite3_stmt* s = Reset(st);
    bind(s);
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? Status::Ok() : Error("writing");
  }

  Status Exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK) {
      return Status::Ok();
    }
    std::string text = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return InternalError("store: " + text);
  }

  Status Error(const std::string& what) const {
    return InternalError("store: " + what + ": " + sqlite3_errmsg(db_));
  }

  // Recursive: LoadOpenRuns's visitor may read events.
  std::recursive_mutex mu_;
  sqlite3* db_;
  std::unique_ptr<FileLock> lock_;
  std::vector<std::unique_ptr<Statement>> statements_;
  Statement* upsert_domain_ = nullptr;
  Statement* upsert_run_ = nullptr;
  Statement* update_state_ = nullptr;
  Statement* clear_parts_ = nullptr;
  Statement* upsert_part_ = nullptr;
  Statement* delete_part_ = nullptr;
  Statement* insert_event_ = nullptr;
  Statement* delete_events_ = nullptr;
  Statement* delete_run_ = nullptr;
  Statement* find_run_ = nullptr;
  Statement* read_events_ = nullptr;
  Statement* run_parts_ = nullptr;
  Statement* upsert_payload_ = nullptr;
  Statement* read_payload_ = nullptr;
  Statement* delete_payload_ = nullptr;
  Statement* begin_ = nullptr;
  Statement* commit_ = nullptr;
  Statement* rollback_ = nullptr;
};

}  // namespace

Result<std::shared_ptr<Store>> OpenSqliteStore(const std::string& path, SqliteOptions options) {
  auto lock = std::make_unique<FileLock>();
  RETURN_IF_ERROR(lock->Acquire(path));
  sqlite3* db = nullptr;
  // Under FULL, each commit's WAL frames go to the file in one write
  // (wal_vfs.h); under NORMAL, SQLite's own VFS.
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 options.synchronous_full ? WalVfsName() : nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return InternalError("store: cannot open " + path + ": " + message);
  }
  auto store = std::make_shared<SqliteStore>(db, std::move(lock));
  RETURN_IF_ERROR(store->Init(path, options));
  return std::shared_ptr<Store>(std::move(store));
}

}  // namespace garcon::store
