// Where the engine keeps what must survive a restart. A store holds records
// (JSON text by kind and key: domains, types, run states) and each run's
// append-only event log. Apply() is atomic and returns only once the change
// is durable, so an acknowledged call is never lost.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "garcon/status.h"

namespace garcon::store {

// One atomic change.
struct Batch {
  struct Put {
    std::string kind;
    std::string key;
    std::string value;
  };
  struct Delete {
    std::string kind;
    std::string key;
  };
  struct Event {
    std::string run_id;
    std::int64_t event_id = 0;
    std::string body;
  };
  std::vector<Put> puts;
  std::vector<Delete> deletes;
  std::vector<Event> events;
  // Runs whose whole event log is deleted (retention).
  std::vector<std::string> purged_runs;

  bool empty() const {
    return puts.empty() && deletes.empty() && events.empty() && purged_runs.empty();
  }
};

// Thread-safe.
class Store {
 public:
  virtual ~Store() = default;

  // Applies every part of `batch` or none; returns once durable.
  virtual Status Apply(const Batch& batch) = 0;

  // Every record of `kind` as (key, value), in key order.
  virtual Result<std::vector<std::pair<std::string, std::string>>> Load(std::string_view kind) = 0;

  // The bodies of a run's events with first <= eventId <= last, in order.
  virtual Result<std::vector<std::string>> ReadEvents(std::string_view run_id,
                                                      std::int64_t first,
                                                      std::int64_t last) = 0;

  // Whether the store keeps data across restarts.
  virtual bool durable() const = 0;
};

// Keeps everything in memory (lost when the process ends).
std::shared_ptr<Store> OpenMemoryStore();

struct SqliteOptions {
  // FULL: a commit is on disk when Apply returns (survives power loss).
  // NORMAL: survives a killed process, may lose the last commits on power
  // loss; faster.
  bool synchronous_full = true;
};

// One SQLite file in WAL mode, created if missing. Fails with
// kInternalFailure and SQLite's message when the file cannot be opened or
// is not a Garcon store.
Result<std::shared_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               SqliteOptions options = {});

}  // namespace garcon::store
