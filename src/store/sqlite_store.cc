// The SQLite store: one file in WAL mode. Schema and format: docs/storage.md.
#include <sqlite3.h>

#include <mutex>

#include "garcon/store.h"

namespace garcon::store {
namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  run_id TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (run_id, event_id)
) WITHOUT ROWID;
)sql";

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  bool ok() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

void BindText(sqlite3_stmt* s, int i, std::string_view text) {
  sqlite3_bind_text(s, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override {
    put_.reset();
    delete_.reset();
    append_.reset();
    purge_.reset();
    sqlite3_close(db_);
  }

  Status Init(const SqliteOptions& options) {
    RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    RETURN_IF_ERROR(Exec(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                  : "PRAGMA synchronous=NORMAL"));
    RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=OFF"));
    sqlite3_busy_timeout(db_, 5000);
    RETURN_IF_ERROR(Exec(kSchema));
    {
      Statement s(db_, "SELECT value FROM meta WHERE key='schema_version'");
      if (!s.ok()) return Error("reading the schema version");
      if (sqlite3_step(s.get()) == SQLITE_ROW) {
        const std::string version = ColumnText(s.get(), 0);
        if (version != std::to_string(kSchemaVersion)) {
          return InternalError("unsupported store schema version " + version);
        }
      } else {
        RETURN_IF_ERROR(Exec("INSERT INTO meta(key, value) VALUES('schema_version', '" +
                             std::to_string(kSchemaVersion) + "')"));
      }
    }
    put_ = std::make_unique<Statement>(
        db_, "INSERT INTO records(kind, key, value) VALUES(?1, ?2, ?3) "
             "ON CONFLICT(kind, key) DO UPDATE SET value=excluded.value");
    delete_ = std::make_unique<Statement>(db_, "DELETE FROM records WHERE kind=?1 AND key=?2");
    append_ = std::make_unique<Statement>(
        db_, "INSERT OR REPLACE INTO events(run_id, event_id, body) VALUES(?1, ?2, ?3)");
    purge_ = std::make_unique<Statement>(db_, "DELETE FROM events WHERE run_id=?1");
    if (!put_->ok() || !delete_->ok() || !append_->ok() || !purge_->ok()) {
      return Error("preparing statements");
    }
    return Status::Ok();
  }

  Status Apply(const Batch& batch) override {
    if (batch.empty()) return Status::Ok();
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status status = ApplyLocked(batch);
    if (!status.ok()) {
      (void)Exec("ROLLBACK");
      return status;
    }
    status = Exec("COMMIT");
    if (!status.ok()) (void)Exec("ROLLBACK");
    return status;
  }

  Result<std::vector<std::pair<std::string, std::string>>> Load(std::string_view kind) override {
    std::lock_guard lock(mu_);
    Statement s(db_, "SELECT key, value FROM records WHERE kind=?1 ORDER BY key");
    if (!s.ok()) return Error("loading records");
    BindText(s.get(), 1, kind);
    std::vector<std::pair<std::string, std::string>> out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      out.emplace_back(ColumnText(s.get(), 0), ColumnText(s.get(), 1));
    }
    if (rc != SQLITE_DONE) return Error("loading records");
    return out;
  }

  Result<std::vector<std::string>> ReadEvents(std::string_view run_id, std::int64_t first,
                                              std::int64_t last) override {
    std::lock_guard lock(mu_);
    Statement s(db_,
                "SELECT body FROM events WHERE run_id=?1 AND event_id BETWEEN ?2 AND ?3 "
                "ORDER BY event_id");
    if (!s.ok()) return Error("reading events");
    BindText(s.get(), 1, run_id);
    sqlite3_bind_int64(s.get(), 2, first);
    sqlite3_bind_int64(s.get(), 3, last);
    std::vector<std::string> out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(ColumnText(s.get(), 0));
    if (rc != SQLITE_DONE) return Error("reading events");
    return out;
  }

  bool durable() const override { return true; }

 private:
  Status ApplyLocked(const Batch& batch) {
    for (const auto& p : batch.puts) {
      RETURN_IF_ERROR(Step(*put_, [&](sqlite3_stmt* s) {
        BindText(s, 1, p.kind);
        BindText(s, 2, p.key);
        BindText(s, 3, p.value);
      }));
    }
    for (const auto& d : batch.deletes) {
      RETURN_IF_ERROR(Step(*delete_, [&](sqlite3_stmt* s) {
        BindText(s, 1, d.kind);
        BindText(s, 2, d.key);
      }));
    }
    for (const auto& run : batch.purged_runs) {
      RETURN_IF_ERROR(Step(*purge_, [&](sqlite3_stmt* s) { BindText(s, 1, run); }));
    }
    for (const auto& e : batch.events) {
      RETURN_IF_ERROR(Step(*append_, [&](sqlite3_stmt* s) {
        BindText(s, 1, e.run_id);
        sqlite3_bind_int64(s, 2, e.event_id);
        BindText(s, 3, e.body);
      }));
    }
    return Status::Ok();
  }

  template <typename Bind>
  Status Step(Statement& st, Bind&& bind) {
    sqlite3_stmt* s = st.get();
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
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

  std::mutex mu_;
  sqlite3* db_;
  std::unique_ptr<Statement> put_, delete_, append_, purge_;
};

}  // namespace

Result<std::shared_ptr<Store>> OpenSqliteStore(const std::string& path, SqliteOptions options) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return InternalError("store: cannot open " + path + ": " + message);
  }
  auto store = std::make_shared<SqliteStore>(db);
  RETURN_IF_ERROR(store->Init(options));
  return std::shared_ptr<Store>(std::move(store));
}

}  // namespace garcon::store
