// Loading corrupted store records: a SQLite store written by a real engine,
// with rows changed by the fuzz input, opened by a new engine that is then
// called.
//
// Setup (once): an engine on a SQLite file (in $TMPDIR or /dev/shm) with
// domain "d", types, and runs in every shape: "w1" open with a started
// activity task, a timer, a marker and an execution context; "w2" open with
// a decision task queued; "w3" closed (completed); "w4" closed (terminated).
// The file's bytes are kept.
//
// Per input (FuzzedDataProvider): the file is rewritten from those bytes,
// 1-4 edits are made through the sqlite3 C API on the JSON columns
// (domains.value, runs.state, runs.tags, parts.value, events.body) or the
// integer ones (runs.open/start_us/start_seq/close_us, parts.kind,
// events.event_id), or rows are deleted. An edit replaces a column with
// fuzzed bytes, truncates it, or replaces one node of its JSON with a value
// of another type. Then OpenSqliteStore, Engine::Open and a fixed series of
// calls (describe, history pages both ways, polls with no wait, respond,
// lists, counts, time moving past every timeout, terminate). A clear error
// anywhere is fine; a crash, a sanitizer report or an exception escaping is
// a finding.
#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "fuzz_common.h"

namespace {

using garcon::Json;
namespace fz = garcon::fuzz;

struct Golden {
  std::string dir;
  std::string path;  // the working copy
  std::string bytes;
  std::vector<std::pair<std::string, std::string>> runs;  // (workflowId, runId)
  // Primary keys of the rows, by table, in an order that does not depend on
  // the random run ids (so that an input picks the same rows every run).
  std::vector<std::string> domains;
  std::vector<std::string> run_ids;
  std::vector<std::tuple<std::string, int, std::string>> parts;
  std::vector<std::pair<std::string, std::int64_t>> events;
};

void RemoveFiles(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

std::unique_ptr<garcon::engine::Engine> OpenEngine(std::shared_ptr<garcon::store::Store> store,
                                                   std::shared_ptr<garcon::FakeClock> clock) {
  garcon::engine::EngineOptions options;
  options.clock = std::move(clock);
  options.timer_thread = false;
  options.poll_timeout = garcon::Duration::zero();
  options.store = std::move(store);
  auto engine = garcon::engine::Engine::Open(std::move(options));
  return engine.ok() ? std::move(*engine) : nullptr;
}

void Query(sqlite3* db, const char* sql, const std::function<void(sqlite3_stmt*)>& row) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) fz::Die(sqlite3_errmsg(db));
  while (sqlite3_step(s) == SQLITE_ROW) row(s);
  sqlite3_finalize(s);
}

std::string Text(sqlite3_stmt* s, int column) {
  const auto* p = sqlite3_column_text(s, column);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s, column)))
           : std::string();
}

Golden MakeGolden() {
  Golden g;
  const char* shm = "/dev/shm";
  std::string base = std::getenv("TMPDIR") ? std::getenv("TMPDIR")
                     : access(shm, W_OK) == 0 ? shm
                                              : "/tmp";
  std::string templ = base + "/garcon-store-fuzz-XXXXXX";
  if (!mkdtemp(templ.data())) fz::Die("mkdtemp failed in " + base);
  g.dir = templ;
  const std::string golden = g.dir + "/golden.db";
  g.path = g.dir + "/work.db";
  {
    auto store = garcon::store::OpenSqliteStore(golden, {.synchronous_full = false});
    if (!store.ok()) fz::Die("golden store: " + store.status().ToString());
    auto clock = std::make_shared<garcon::FakeClock>();
    auto engine = OpenEngine(*store, clock);
    if (!engine) fz::Die("golden engine did not open");
    fz::RegisterBasics(*engine);
    for (const char* id : {"w1", "w2", "w3", "w4"}) {
      g.runs.emplace_back(id, fz::StartWorkflow(*engine, id, R"({"user": "ann", "n": 2})"));
    }
    // w1..w4 each have a decision task queued, handed in start order.
    Json t1 = fz::PollDecision(*engine);
    fz::MustCall(*engine, "RespondDecisionTaskCompleted",
                 {{"taskToken", t1["taskToken"]},
                  {"executionContext", "ctx-1"},
                  {"decisions",
                   {fz::ScheduleActivityDecision("a1"), fz::StartTimerDecision("t1", "600"),
                    {{"decisionType", "RecordMarker"},
                     {"recordMarkerDecisionAttributes", {{"markerName", "m"}, {"details", "x"}}}}}}});
    fz::PollActivity(*engine);  // a1 started
    fz::MustCall(*engine, "SignalWorkflowExecution",
                 {{"domain", "d"}, {"workflowId", "w1"}, {"signalName", "s"}, {"input", "{}"}});
    Json t2 = fz::PollDecision(*engine);  // w2: left started; w2 keeps a task
    Json t3 = fz::PollDecision(*engine);
    fz::MustCall(*engine, "RespondDecisionTaskCompleted",
                 {{"taskToken", t3["taskToken"]},
                  {"decisions",
                   {{{"decisionType", "CompleteWorkflowExecution"},
                     {"completeWorkflowExecutionDecisionAttributes", {{"result", "{}"}}}}}}});
    fz::MustCall(*engine, "TerminateWorkflowExecution",
                 {{"domain", "d"}, {"workflowId", "w4"}, {"reason", "r"}});
    engine->Flush();
  }
  std::ifstream in(golden, std::ios::binary);
  g.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (g.bytes.empty()) fz::Die("golden store is empty");
  sqlite3* db = nullptr;
  if (sqlite3_open(golden.c_str(), &db) != SQLITE_OK) fz::Die("reopening the golden store");
  Query(db, "SELECT name FROM domains ORDER BY name", [&](sqlite3_stmt* s) { g.domains.push_back(Text(s, 0)); });
  Query(db, "SELECT run_id FROM runs ORDER BY start_seq", [&](sqlite3_stmt* s) { g.run_ids.push_back(Text(s, 0)); });
  Query(db, "SELECT p.run_id, p.kind, p.key FROM parts p JOIN runs r USING (run_id) "
        "ORDER BY r.start_seq, p.kind, p.key", [&](sqlite3_stmt* s) {
    g.parts.emplace_back(Text(s, 0), sqlite3_column_int(s, 1), Text(s, 2));
  });
  Query(db, "SELECT e.run_id, e.event_id FROM events e JOIN runs r USING (run_id) "
        "ORDER BY r.start_seq, e.event_id", [&](sqlite3_stmt* s) {
    g.events.emplace_back(Text(s, 0), sqlite3_column_int64(s, 1));
  });
  sqlite3_close(db);
  RemoveFiles(golden);
  if (std::getenv("GARCON_FUZZ_VERBOSE")) {
    std::fprintf(stderr, "store_fuzzer: %zu bytes, %zu domains, %zu runs, %zu parts, %zu events\n",
                 g.bytes.size(), g.domains.size(), g.run_ids.size(), g.parts.size(),
                 g.events.size());
  }
  return g;
}

// A JSON value of any type, from the input.
Json AnyValue(FuzzedDataProvider& fdp) {
  switch (fdp.ConsumeIntegralInRange(0, 9)) {
    case 0: return nullptr;
    case 1: return fdp.ConsumeBool();
    case 2: return fdp.ConsumeIntegral<std::int64_t>();
    case 3: return fdp.ConsumeIntegral<std::uint64_t>();
    case 4: return fdp.ConsumeFloatingPoint<double>();
    case 5: return fdp.ConsumeIntegralInRange<std::int64_t>(-2, 3);
    case 6: return Json::array();
    case 7: return Json::object();
    case 8: return Json::array({fdp.ConsumeIntegralInRange(-1, 2)});
    default: return fdp.ConsumeRandomLengthString(24);
  }
}

// Replaces the `index`-th node (pre-order) of `j`, or removes it from its
// object / array.
bool EditNode(Json& j, std::size_t& index, FuzzedDataProvider& fdp, bool remove) {
  if (j.is_structured()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (index == 0) {
        if (remove) {
          if (j.is_object()) j.erase(it.key()); else j.erase(static_cast<std::size_t>(it - j.begin()));
        } else {
          *it = AnyValue(fdp);
        }
        return true;
      }
      --index;
      if (EditNode(*it, index, fdp, remove)) return true;
    }
  }
  return false;
}

std::size_t CountNodes(const Json& j) {
  std::size_t n = 0;
  if (j.is_structured()) {
    for (const auto& e : j) n += 1 + CountNodes(e);
  }
  return n;
}

std::string Mutate(const std::string& old, FuzzedDataProvider& fdp) {
  switch (fdp.ConsumeIntegralInRange(0, 5)) {
    case 0: return fdp.ConsumeRandomLengthString(256);
    case 1: return old.substr(0, fdp.ConsumeIntegralInRange<std::size_t>(0, old.size()));
    default: {
      Json j = Json::parse(old, nullptr, false);
      if (j.is_discarded()) return fdp.ConsumeRandomLengthString(64);
      const std::size_t n = CountNodes(j);
      if (n == 0) return AnyValue(fdp).dump(-1, ' ', false, Json::error_handler_t::replace);
      const int edits = fdp.ConsumeIntegralInRange(1, 3);
      for (int e = 0; e < edits; ++e) {
        std::size_t index = fdp.ConsumeIntegralInRange<std::size_t>(0, CountNodes(j));
        const bool remove = fdp.ConsumeIntegralInRange(0, 3) == 0;
        EditNode(j, index, fdp, remove);
      }
      return j.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
  }
}

class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) fz::Die("sqlite3_open failed");
  }
  ~Db() { sqlite3_close(db_); }

  std::string Read(const std::string& sql, const std::vector<Json>& keys) {
    std::string out;
    Run(sql, keys, [&](sqlite3_stmt* s) { out = Text(s, 0); });
    return out;
  }

  // `keys` bound from 1; `value` (text or integer) as the last parameter.
  void Run(const std::string& sql, const std::vector<Json>& params,
           const std::function<void(sqlite3_stmt*)>& row = nullptr) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      fz::Die(sql + ": " + sqlite3_errmsg(db_));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int at = static_cast<int>(i) + 1;
      if (params[i].is_string()) {
        const auto& t = params[i].get_ref<const std::string&>();
        sqlite3_bind_text(s, at, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_int64(s, at, params[i].get<std::int64_t>());
      }
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
      if (row) row(s);
    }
    sqlite3_finalize(s);
  }

 private:
  sqlite3* db_ = nullptr;
};

void Corrupt(const Golden& g, FuzzedDataProvider& fdp) {
  Db db(g.path);
  const int edits = fdp.ConsumeIntegralInRange(1, 4);
  for (int e = 0; e < edits; ++e) {
    const int what = fdp.ConsumeIntegralInRange(0, 9);
    auto pick = [&](std::size_t n) { return fdp.ConsumeIntegralInRange<std::size_t>(0, n - 1); };
    auto text_edit = [&](const std::string& column, const std::string& table,
                         const std::string& where, const std::vector<Json>& keys) {
      const std::string old = db.Read("SELECT " + column + " FROM " + table + " WHERE " + where, keys);
      std::vector<Json> params = {Mutate(old, fdp)};
      params.insert(params.end(), keys.begin(), keys.end());
      db.Run("UPDATE " + table + " SET " + column + " = ? WHERE " + where, params);
    };
    if (what <= 1 && !g.run_ids.empty()) {
      text_edit("state", "runs", "run_id = ?", {g.run_ids[pick(g.run_ids.size())]});
    } else if (what == 2 && !g.run_ids.empty()) {
      text_edit("tags", "runs", "run_id = ?", {g.run_ids[pick(g.run_ids.size())]});
    } else if (what == 3 && !g.domains.empty()) {
      text_edit("value", "domains", "name = ?", {g.domains[pick(g.domains.size())]});
    } else if (what <= 5 && !g.parts.empty()) {
      const auto& [run, kind, key] = g.parts[pick(g.parts.size())];
      text_edit("value", "parts", "run_id = ? AND kind = ? AND key = ?", {run, kind, key});
    } else if (what <= 7 && !g.events.empty()) {
      const auto& [run, id] = g.events[pick(g.events.size())];
      text_edit("body", "events", "run_id = ? AND event_id = ?", {run, id});
    } else if (what == 8 && !g.run_ids.empty()) {
      static const char* const kColumns[] = {"open", "start_us", "start_seq", "close_us",
                                             "close_status", "domain", "workflow_id", "type_name"};
      const std::string column = kColumns[fdp.ConsumeIntegralInRange(0, 7)];
      Json value = fdp.ConsumeBool() ? Json(fdp.ConsumeIntegralInRange<std::int64_t>(-1, 3))
                                     : Json(fdp.ConsumeIntegral<std::int64_t>());
      if (column == "close_status" || column == "domain" || column == "workflow_id" ||
          column == "type_name") {
        value = fdp.ConsumeRandomLengthString(16);
      }
      db.Run("UPDATE runs SET " + column + " = ? WHERE run_id = ?",
             {value, g.run_ids[pick(g.run_ids.size())]});
    } else {
      switch (fdp.ConsumeIntegralInRange(0, 4)) {
        case 0:
          if (!g.events.empty()) {
            const auto& [run, id] = g.events[pick(g.events.size())];
            db.Run("DELETE FROM events WHERE run_id = ? AND event_id = ?", {run, id});
          }
          break;
        case 1:
          if (!g.parts.empty()) {
            const auto& [run, kind, key] = g.parts[pick(g.parts.size())];
            db.Run("DELETE FROM parts WHERE run_id = ? AND kind = ? AND key = ?", {run, kind, key});
          }
          break;
        case 2:
          if (!g.events.empty()) {
            const auto& [run, id] = g.events[pick(g.events.size())];
            db.Run("UPDATE events SET event_id = ? WHERE run_id = ? AND event_id = ?",
                   {fdp.ConsumeIntegralInRange<std::int64_t>(-1, 40), run, id});
          }
          break;
        case 3:
          if (!g.parts.empty()) {
            const auto& [run, kind, key] = g.parts[pick(g.parts.size())];
            db.Run("UPDATE parts SET kind = ? WHERE run_id = ? AND kind = ? AND key = ?",
                   {fdp.ConsumeIntegralInRange<std::int64_t>(-1, 6), run, kind, key});
          }
          break;
        default:
          if (!g.domains.empty()) {
            db.Run("DELETE FROM domains WHERE name = ?", {g.domains[pick(g.domains.size())]});
          }
          break;
      }
    }
  }
}

void Exercise(garcon::engine::Engine& engine, garcon::FakeClock& clock, const Golden& g) {
  for (const auto& [workflow_id, run_id] : g.runs) {
    const Json execution = {{"workflowId", workflow_id}, {"runId", run_id}};
    fz::CallOrNull(engine, "DescribeWorkflowExecution", {{"domain", "d"}, {"execution", execution}});
    for (bool reverse : {false, true}) {
      Json request = {{"domain", "d"}, {"execution", execution}, {"maximumPageSize", 2},
                      {"reverseOrder", reverse}};
      for (int page = 0; page < 20; ++page) {
        Json r = fz::CallOrNull(engine, "GetWorkflowExecutionHistory", request);
        if (!r.is_object() || !r.contains("nextPageToken")) break;
        request["nextPageToken"] = r["nextPageToken"];
      }
    }
  }
  fz::CallOrNull(engine, "DescribeDomain", {{"name", "d"}});
  fz::CallOrNull(engine, "ListDomains", {{"registrationStatus", "REGISTERED"}});
  fz::CallOrNull(engine, "ListActivityTypes", {{"domain", "d"}, {"registrationStatus", "REGISTERED"}});
  fz::CallOrNull(engine, "ListWorkflowTypes", {{"domain", "d"}, {"registrationStatus", "REGISTERED"}});
  const Json time_filter = {{"oldestDate", 0}};
  fz::CallOrNull(engine, "ListOpenWorkflowExecutions", {{"domain", "d"}, {"startTimeFilter", time_filter}});
  fz::CallOrNull(engine, "ListClosedWorkflowExecutions", {{"domain", "d"}, {"startTimeFilter", time_filter}});
  fz::CallOrNull(engine, "ListClosedWorkflowExecutions",
                 {{"domain", "d"}, {"closeTimeFilter", time_filter}, {"tagFilter", {{"tag", "t1"}}}});
  fz::CallOrNull(engine, "CountOpenWorkflowExecutions", {{"domain", "d"}, {"startTimeFilter", time_filter}});
  fz::CallOrNull(engine, "CountClosedWorkflowExecutions", {{"domain", "d"}, {"startTimeFilter", time_filter}});
  fz::CallOrNull(engine, "CountPendingDecisionTasks", {{"domain", "d"}, {"taskList", {{"name", "decisions"}}}});
  fz::CallOrNull(engine, "CountPendingActivityTasks", {{"domain", "d"}, {"taskList", {{"name", "activities"}}}});

  Json decision = fz::PollDecision(engine);
  if (decision.is_object()) {
    fz::CallOrNull(engine, "RespondDecisionTaskCompleted",
                   {{"taskToken", decision["taskToken"]},
                    {"decisions", {fz::ScheduleActivityDecision("b1"),
                                   fz::StartTimerDecision("t2", "5"),
                                   {{"decisionType", "CancelTimer"},
                                    {"cancelTimerDecisionAttributes", {{"timerId", "t1"}}}}}}});
  }
  Json activity = fz::PollActivity(engine);
  if (activity.is_object()) {
    fz::CallOrNull(engine, "RecordActivityTaskHeartbeat", {{"taskToken", activity["taskToken"]}});
    fz::CallOrNull(engine, "RespondActivityTaskCompleted",
                   {{"taskToken", activity["taskToken"]}, {"result", "{}"}});
  }
  fz::CallOrNull(engine, "SignalWorkflowExecution",
                 {{"domain", "d"}, {"workflowId", "w1"}, {"signalName", "s2"}});
  fz::CallOrNull(engine, "RequestCancelWorkflowExecution", {{"domain", "d"}, {"workflowId", "w2"}});
  // Past heartbeat, start-to-close, timers, decision and execution timeouts.
  for (int seconds : {130, 700, 4000}) clock.AdvanceSeconds(seconds);
  fz::PollDecision(engine);
  fz::CallOrNull(engine, "TerminateWorkflowExecution", {{"domain", "d"}, {"workflowId", "w1"}});
  fz::CallOrNull(engine, "StartWorkflowExecution",
                 {{"domain", "d"}, {"workflowId", "w3"}, {"workflowType", {{"name", "wf"}, {"version", "1"}}}});
  engine.Flush();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Golden golden = MakeGolden();
  static const int cleanup = std::atexit([] {
    RemoveFiles(golden.path);
    ::rmdir(golden.dir.c_str());
  });
  (void)cleanup;
  FuzzedDataProvider fdp(data, size);

  RemoveFiles(golden.path);
  {
    std::ofstream out(golden.path, std::ios::binary | std::ios::trunc);
    out.write(golden.bytes.data(), static_cast<std::streamsize>(golden.bytes.size()));
  }
  Corrupt(golden, fdp);

  auto store = garcon::store::OpenSqliteStore(golden.path, {.synchronous_full = false});
  if (!store.ok()) return 0;
  auto clock = std::make_shared<garcon::FakeClock>(garcon::FromEpochSeconds(1767225660.0));
  auto engine = OpenEngine(*store, clock);
  if (engine) Exercise(*engine, *clock, golden);
  engine.reset();
  store->reset();
  RemoveFiles(golden.path);
  return 0;
}
