// Where the engine keeps what must survive a restart: a journal of small
// rows, never whole runs. A store holds
//   - domains (one record each, with their types and tags);
//   - runs: one row per run with the columns visibility filters on and the
//     run's own state (configuration, decision task, counters) as JSON;
//   - parts: one row per open activity task, timer, child workflow and the
//     latest execution context of a run, written only when that part changes;
//   - events: each run's append-only history;
//   - payloads: inputs, results and contexts too large for SWF's 32,768
//     characters, stored once per domain under the SHA-256 of their bytes
//     and referenced from the history (docs/payloads.md).
// A call of the engine writes the events it appended and the rows it changed,
// so its cost does not grow with the size of its run nor the number of runs.
// Closed runs are not kept in memory: the engine reads them back through the
// query functions below. Format: docs/storage.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "garcon/status.h"

namespace garcon::store {

// A run's row. Times are integer microseconds since the epoch.
struct RunRecord {
  std::string run_id;
  std::string domain;
  std::string workflow_id;
  std::string type_name;
  std::string type_version;
  std::int64_t start_us = 0;
  std::uint64_t start_seq = 0;  // start order across the store
  bool open = true;
  std::int64_t close_us = 0;  // closed runs only
  std::string close_status;   // closed runs only
  std::string tags;           // JSON array of strings
  std::string state;          // JSON object: everything else of the run
};

enum class PartKind : int { kActivity = 1, kTimer = 2, kChild = 3, kContext = 4 };

struct Part {
  std::string run_id;
  PartKind kind = PartKind::kActivity;
  std::string key;
  std::string value;  // JSON
};

struct PartKey {
  std::string run_id;
  PartKind kind = PartKind::kActivity;
  std::string key;
};

struct Event {
  std::string run_id;
  std::int64_t event_id = 0;
  std::string body;
};

// A payload: stored under (domain, key), `put_us` the time of its latest put.
struct Payload {
  std::string domain;
  std::string key;
  std::string body;
  std::int64_t put_us = 0;
};

// One operation's changes. Within a batch each row appears at most once.
struct Batch {
  std::vector<std::pair<std::string, std::string>> domains;  // (name, record): upsert
  std::vector<RunRecord> runs;                               // upsert
  // (run_id, state): the state of a stored run whose other columns are
  // unchanged; cheaper than an upsert (no index is touched).
  std::vector<std::pair<std::string, std::string>> run_states;
  std::vector<std::string> cleared_runs;  // every part of these runs is deleted (closed)
  std::vector<Part> parts;                // upsert
  std::vector<PartKey> removed_parts;
  std::vector<Event> events;
  std::vector<Payload> payloads;  // upsert (a put again refreshes put_us)

  bool empty() const {
    return domains.empty() && runs.empty() && run_states.empty() && cleared_runs.empty() &&
           parts.empty() && removed_parts.empty() && events.empty() && payloads.empty();
  }
};

// A visibility query over closed runs of one domain, newest first unless
// `reverse`. At most one of workflow_id, type, tag and close_status is set
// (SWF's filters are exclusive).
struct ClosedQuery {
  std::string domain;
  bool by_close_time = false;  // else by start time
  std::int64_t oldest_us = 0;
  std::optional<std::int64_t> latest_us;
  std::optional<std::string> workflow_id;
  std::optional<std::string> type_name;
  std::optional<std::string> type_version;
  std::optional<std::string> tag;
  std::optional<std::string> close_status;
  bool reverse = false;
  // Keyset paging: the (time, start_seq) of the last row of the previous page.
  std::optional<std::pair<std::int64_t, std::uint64_t>> after;
};

struct PurgeResult {
  std::size_t purged = 0;
  bool more = false;  // the limit was reached: call again
};

// What a store holds, in numbers; read when an engine opens.
struct Summary {
  std::uint64_t max_start_seq = 0;
  std::size_t closed_runs = 0;
};

// Thread-safe; every function may block on the disk.
class Store {
 public:
  virtual ~Store() = default;

  // Applies the batches in order in one transaction: all or none. Returns
  // once durable (per the store's synchronous setting).
  virtual Status Apply(std::span<const Batch> batches) = 0;
  Status Apply(const Batch& batch) { return Apply(std::span<const Batch>(&batch, 1)); }
  // As Apply, but the store may move from `batches` (left valid but
  // unspecified). The engine's journal, which owns its batches, calls this.
  virtual Status Consume(std::span<Batch> batches) {
    return Apply(std::span<const Batch>(batches.data(), batches.size()));
  }

  // Every domain record as (name, record), in name order.
  virtual Result<std::vector<std::pair<std::string, std::string>>> LoadDomains() = 0;

  // Calls `visit` for every open run with its parts.
  virtual Status LoadOpenRuns(
      const std::function<Status(RunRecord, std::vector<Part>)>& visit) = 0;

  virtual Result<Summary> Summarize() = 0;

  // The row of `run_id`, open or closed, or nullopt.
  virtual Result<std::optional<RunRecord>> FindRun(std::string_view run_id) = 0;

  // The bodies of a run's events with first <= eventId <= last, in order.
  virtual Result<std::vector<std::string>> ReadEvents(std::string_view run_id,
                                                      std::int64_t first,
                                                      std::int64_t last) = 0;

  // At most `limit` closed runs matching `query`, in its order.
  virtual Result<std::vector<RunRecord>> ListClosed(const ClosedQuery& query,
                                                    std::size_t limit) = 0;
  virtual Result<std::size_t> CountClosed(const ClosedQuery& query) = 0;

  // Deletes (row, parts, events) at most `limit` closed runs of `domain`
  // that closed at or before `cutoff_us`, oldest first, in one transaction.
  virtual Result<PurgeResult> PurgeClosed(std::string_view domain, std::int64_t cutoff_us,
                                          std::size_t limit) = 0;
  // The earliest close time of a closed run of `domain`, if any.
  virtual Result<std::optional<std::int64_t>> OldestClose(std::string_view domain) = 0;

  // The body of payload `key` of `domain`, or nullopt.
  virtual Result<std::optional<std::string>> ReadPayload(std::string_view domain,
                                                         std::string_view key) = 0;
  // Deletes at most `limit` payloads of `domain` last put before `before_us`
  // and older than every run the store holds of that domain (open or closed:
  // a run only references payloads put after it started, give or take
  // `margin_us`), in one transaction.
  virtual Result<PurgeResult> PurgePayloads(std::string_view domain, std::int64_t before_us,
                                            std::int64_t margin_us, std::size_t limit) = 0;

  // Whether the store keeps data across restarts.
  virtual bool durable() const = 0;
};

// Keeps everything in memory (plain containers, with the SQLite store's
// answers and orders), lost when the store is destroyed. An engine without a
// store of the user's keeps its closed runs in one.
std::shared_ptr<Store> OpenMemoryStore();

struct SqliteOptions {
  // FULL: a commit is on disk when Apply returns (survives power loss).
  // NORMAL: survives a killed process, may lose the last commits on power
  // loss; faster.
  bool synchronous_full = true;
};

// One SQLite file in WAL mode, created if missing, mode 0600 (with its -wal
// file; no -shm). The store holds an exclusive lock on the file for its
// life: a second opener, in this process or another, fails at once naming
// the file. Fails with kInternalFailure and a message when the file cannot
// be opened, is held, is not a Garcon store, or has another format version.
Result<std::shared_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               SqliteOptions options = {});

}  // namespace garcon::store
