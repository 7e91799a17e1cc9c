// The crash test: a child process (crash_driver) drives workflows on a SQLite
// file and is killed with SIGKILL at random moments, many times, restarted
// each time on the same file; iterations alternate synchronous=FULL and
// NORMAL (both claim to survive a killed process). After each kill a fresh
// Engine opens the file here and checks that every call the driver
// acknowledged (its ack log) has its effects in the file, that every history
// is well formed (event ids 1..N, one WorkflowExecutionStarted, nothing after
// the close), and at the end a driver run without a kill finishes every
// workflow: all close COMPLETED after their kSteps activities.
//
// GARCON_CRASH_SEED and GARCON_CRASH_ITERATIONS override the random seed and
// the number of kills (30).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crash/crash_common.h"
#include "garcon/clock.h"
#include "garcon/engine.h"
#include "garcon/store.h"

#ifndef GARCON_CRASH_DRIVER
#error "GARCON_CRASH_DRIVER must name the crash_driver executable"
#endif

namespace garcon::crash {
namespace {

namespace fs = std::filesystem;

struct RunInfo {
  std::string workflow_id;
  std::string run_id;
  bool open = true;
  std::string close_status;
  Json events = Json::array();
};

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("garcon-crash-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "engine.db").string();
    acks_ = (dir_ / "acks.log").string();
    log_ = (dir_ / "driver.log").string();
  }

  void TearDown() override {
    if (!HasFailure()) {
      fs::remove_all(dir_);
    } else {
      std::cerr << "kept for inspection: " << dir_ << "\n";
    }
  }

  // Starts the driver; its stdout and stderr go to log_.
  pid_t Spawn(const std::string& mode, bool sync_full, int clients) {
    const std::string driver = GARCON_CRASH_DRIVER;
    const std::string sync = sync_full ? "--sync=full" : "--sync=normal";
    const std::string threads = "--clients=" + std::to_string(clients);
    std::vector<const char*> argv = {driver.c_str(), db_.c_str(),  acks_.c_str(), mode.c_str(),
                                     sync.c_str(),   threads.c_str(), nullptr};
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], const_cast<char* const*>(argv.data()));
      std::_Exit(127);
    }
    return pid;
  }

  // The whole test with `clients` threads of each kind (see below).
  void RunKills(int clients);

  std::string DriverLog() const {
    std::ifstream in(log_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  // Opens the file with a new Engine. The fake clock stands at the epoch,
  // before every stored deadline, so that checking fires nothing and writes
  // nothing: the file is seen as the killed driver left it.
  std::unique_ptr<engine::Engine> OpenEngine() {
    auto store = store::OpenSqliteStore(db_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return nullptr;
    engine::EngineOptions options;
    options.clock = std::make_shared<FakeClock>(FromEpochSeconds(0));
    options.timer_thread = false;
    options.poll_timeout = Duration::zero();
    options.store = *store;
    auto engine = engine::Engine::Open(std::move(options));
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return engine.ok() ? std::move(*engine) : nullptr;
  }

  static Json Ok(engine::Engine& engine, const std::string& op, const Json& request) {
    Result<Json> r = engine.Call(op, request);
    EXPECT_TRUE(r.ok()) << op << " " << request.dump() << ": " << r.status().ToString();
    return r.ok() ? *r : Json::object();
  }

  // Every run in the domain, with its whole history. None when a driver was
  // killed before it registered the domain.
  static std::map<std::string, RunInfo> ReadRuns(engine::Engine& engine) {
    std::map<std::string, RunInfo> runs;
    if (engine.Call("DescribeDomain", {{"name", kDomain}}).fault() == Fault::kUnknownResource) {
      return runs;
    }
    for (const char* op : {"ListOpenWorkflowExecutions", "ListClosedWorkflowExecutions"}) {
      Json request{{"domain", kDomain}, {"startTimeFilter", {{"oldestDate", 0}}}};
      for (;;) {
        const Json page = Ok(engine, op, request);
        for (const Json& info : page.value("executionInfos", Json::array())) {
          RunInfo run;
          run.workflow_id = info["execution"]["workflowId"];
          run.run_id = info["execution"]["runId"];
          run.open = info["executionStatus"] == "OPEN";
          run.close_status = info.value("closeStatus", "");
          runs[run.run_id] = std::move(run);
        }
        if (!page.contains("nextPageToken")) break;
        request["nextPageToken"] = page["nextPageToken"];
      }
    }
    for (auto& [run_id, run] : runs) {
      Json request{{"domain", kDomain},
                   {"execution", {{"workflowId", run.workflow_id}, {"runId", run_id}}}};
      for (;;) {
        const Json page = Ok(engine, "GetWorkflowExecutionHistory", request);
        for (const Json& e : page.value("events", Json::array())) run.events.push_back(e);
        if (!page.contains("nextPageToken")) break;
        request["nextPageToken"] = page["nextPageToken"];
      }
    }
    return runs;
  }

  static bool IsCloseEvent(const std::string& type) {
    static const std::set<std::string> kClose = {
        "WorkflowExecutionCompleted",  "WorkflowExecutionFailed",
        "WorkflowExecutionTimedOut",   "WorkflowExecutionCanceled",
        "WorkflowExecutionTerminated", "WorkflowExecutionContinuedAsNew"};
    return kClose.count(type) > 0;
  }

  // Every history well formed.
  static void CheckHistories(const std::map<std::string, RunInfo>& runs, const std::string& when) {
    for (const auto& [run_id, run] : runs) {
      SCOPED_TRACE(when + ", run " + run_id + " (" + run.workflow_id + ")");
      const Json& events = run.events;
      ASSERT_FALSE(events.empty());
      int starts = 0;
      int closes = 0;
      for (std::size_t i = 0; i < events.size(); ++i) {
        ASSERT_EQ(events[i]["eventId"], i + 1) << "event ids not contiguous: " << events[i].dump();
        const std::string type = events[i]["eventType"];
        if (type == "WorkflowExecutionStarted") ++starts;
        if (IsCloseEvent(type)) {
          ++closes;
          EXPECT_EQ(i + 1, events.size()) << "events after the close: " << type;
        }
      }
      EXPECT_EQ(events[0]["eventType"], "WorkflowExecutionStarted");
      EXPECT_EQ(starts, 1);
      EXPECT_EQ(closes, run.open ? 0 : 1);
    }
  }

  static const Json* EventAt(const RunInfo& run, long event_id) {
    if (event_id < 1 || event_id > static_cast<long>(run.events.size())) return nullptr;
    return &run.events[static_cast<std::size_t>(event_id - 1)];
  }

  static bool HasEvent(const RunInfo& run, const std::string& type, const char* attributes,
                       long started_event_id) {
    for (const Json& e : run.events) {
      if (e["eventType"] == type && e[attributes]["startedEventId"] == started_event_id) {
        return true;
      }
    }
    return false;
  }

  struct Counts {
    std::map<std::string, std::size_t> acks;
  };

  // Every acknowledged call's effects are in the file.
  void CheckAcks(engine::Engine& engine, const std::map<std::string, RunInfo>& runs,
                 const std::string& when, Counts* counts) {
    for (const Ack& ack : ReadAckLog(acks_)) {
      SCOPED_TRACE(when + ", ack: " + ack.kind + " " + (ack.fields.empty() ? "" : ack.fields[0]));
      ++counts->acks[ack.kind];
      if (ack.kind == "registered") {
        ASSERT_EQ(ack.fields.size(), 1u);
        const std::string& op = ack.fields[0];
        if (op == "RegisterDomain") {
          Ok(engine, "DescribeDomain", {{"name", kDomain}});
        } else if (op == "RegisterWorkflowType") {
          Ok(engine, "DescribeWorkflowType",
             {{"domain", kDomain},
              {"workflowType", {{"name", kWorkflowType}, {"version", kVersion}}}});
        } else if (op == "RegisterActivityType") {
          Ok(engine, "DescribeActivityType",
             {{"domain", kDomain},
              {"activityType", {{"name", kActivityType}, {"version", kVersion}}}});
        } else {
          ADD_FAILURE() << "unknown registration";
        }
        continue;
      }
      if (ack.kind == "started") {
        ASSERT_EQ(ack.fields.size(), 2u);
        const std::string& workflow_id = ack.fields[0];
        const std::string& run_id = ack.fields[1];
        const Json info = Ok(
            engine, "DescribeWorkflowExecution",
            {{"domain", kDomain}, {"execution", {{"workflowId", workflow_id}, {"runId", run_id}}}});
        EXPECT_EQ(info["executionInfo"]["execution"]["runId"], run_id);
        EXPECT_EQ(runs.count(run_id), 1u) << "not listed";
        continue;
      }
      ASSERT_GE(ack.fields.size(), 2u);
      auto it = runs.find(ack.fields[0]);
      ASSERT_NE(it, runs.end()) << "unknown run " << ack.fields[0];
      const RunInfo& run = it->second;
      EXPECT_EQ(run.workflow_id, ack.fields[1]);
      if (ack.kind == "closed") {
        EXPECT_FALSE(run.open);
        EXPECT_EQ(run.close_status, "COMPLETED");
        const Json info =
            Ok(engine, "DescribeWorkflowExecution",
               {{"domain", kDomain},
                {"execution", {{"workflowId", run.workflow_id}, {"runId", run.run_id}}}});
        EXPECT_EQ(info["executionInfo"]["executionStatus"], "CLOSED");
        EXPECT_EQ(info["executionInfo"]["closeStatus"], "COMPLETED");
        continue;
      }
      ASSERT_GE(ack.fields.size(), 3u);
      const long started = std::stol(ack.fields[2]);
      const Json* event = EventAt(run, started);
      if (ack.kind == "decision-started") {
        ASSERT_NE(event, nullptr) << "no event " << started;
        EXPECT_EQ((*event)["eventType"], "DecisionTaskStarted");
      } else if (ack.kind == "activity-started") {
        ASSERT_NE(event, nullptr) << "no event " << started;
        EXPECT_EQ((*event)["eventType"], "ActivityTaskStarted");
      } else if (ack.kind == "decided") {
        EXPECT_TRUE(
            HasEvent(run, "DecisionTaskCompleted", "decisionTaskCompletedEventAttributes", started))
            << "no DecisionTaskCompleted for started event " << started;
      } else if (ack.kind == "activity-completed") {
        ASSERT_EQ(ack.fields.size(), 4u);
        EXPECT_TRUE(
            HasEvent(run, "ActivityTaskCompleted", "activityTaskCompletedEventAttributes", started))
            << "no ActivityTaskCompleted for started event " << started;
        // ...and it is the activity the worker was given.
        for (const Json& e : run.events) {
          if (e["eventType"] != "ActivityTaskCompleted" ||
              e["activityTaskCompletedEventAttributes"]["startedEventId"] != started) {
            continue;
          }
          const Json* scheduled = EventAt(
              run, e["activityTaskCompletedEventAttributes"]["scheduledEventId"].get<long>());
          ASSERT_NE(scheduled, nullptr);
          EXPECT_EQ((*scheduled)["activityTaskScheduledEventAttributes"]["activityId"],
                    ack.fields[3]);
        }
      } else {
        ADD_FAILURE() << "unknown ack kind";
      }
    }
  }

  fs::path dir_;
  std::string db_;
  std::string acks_;
  std::string log_;
};

unsigned long EnvNumber(const char* name, unsigned long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoul(v, nullptr, 10) : fallback;
}

// Two decider threads and two worker threads.
TEST_F(CrashTest, AcknowledgedCallsSurviveSigkillAndEveryWorkflowFinishes) { RunKills(2); }

// Eight deciders, eight workers and a starter: commits hold the calls of
// many threads when the kill comes.
TEST_F(CrashTest, GroupCommitsOfEightClientsSurviveSigkill) { RunKills(8); }

void CrashTest::RunKills(int clients) {
  const auto seed =
      static_cast<std::uint32_t>(EnvNumber("GARCON_CRASH_SEED", std::random_device{}()));
  const int iterations = static_cast<int>(EnvNumber("GARCON_CRASH_ITERATIONS", 30));
  std::cout << "seed " << seed << " (GARCON_CRASH_SEED), " << iterations << " kills\n";
  RecordProperty("seed", std::to_string(seed));
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(5, 200);
  Counts counts;

  for (int i = 0; i < iterations; ++i) {
    const bool sync_full = i % 2 == 0;
    const int delay = delay_ms(random);
    const std::string when = "kill " + std::to_string(i + 1) + " after " + std::to_string(delay) +
                             " ms (synchronous=" + (sync_full ? "FULL" : "NORMAL") + ")";
    SCOPED_TRACE(when);
    const pid_t pid = Spawn("run", sync_full, clients);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the driver ended on its own (status " << status << "):\n"
        << DriverLog();

    auto engine = OpenEngine();
    ASSERT_NE(engine, nullptr);
    const auto runs = ReadRuns(*engine);
    CheckHistories(runs, when);
    counts = {};
    CheckAcks(*engine, runs, when, &counts);
    if (HasFailure()) return;
  }

  // The last run: nothing is killed, every open workflow finishes. Tasks the
  // last killed driver had started time out first (2 s).
  const pid_t pid = Spawn("finish", /*sync_full=*/true, clients);
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the finishing driver failed (status " << status << "):\n"
      << DriverLog();

  auto engine = OpenEngine();
  ASSERT_NE(engine, nullptr);
  const auto runs = ReadRuns(*engine);
  CheckHistories(runs, "after the last run");
  counts = {};
  CheckAcks(*engine, runs, "after the last run", &counts);
  std::set<std::string> acked_workflows;
  for (const Ack& ack : ReadAckLog(acks_)) {
    if (ack.kind == "started") acked_workflows.insert(ack.fields.at(0));
  }
  std::set<std::string> completed_workflows;
  std::map<std::string, int> timeouts;  // tasks a killed driver had started
  for (const auto& [run_id, run] : runs) {
    SCOPED_TRACE("run " + run_id + " (" + run.workflow_id + ")");
    EXPECT_FALSE(run.open);
    EXPECT_EQ(run.close_status, "COMPLETED");
    int steps = 0;
    for (const Json& e : run.events) {
      steps += e["eventType"] == "ActivityTaskCompleted";
      const std::string type = e["eventType"];
      if (type.find("TimedOut") != std::string::npos) ++timeouts[type];
    }
    EXPECT_EQ(steps, kSteps);
    if (run.close_status == "COMPLETED") completed_workflows.insert(run.workflow_id);
  }
  for (const std::string& workflow_id : acked_workflows) {
    EXPECT_EQ(completed_workflows.count(workflow_id), 1u) << workflow_id << " did not complete";
  }
  const auto stats = engine->GetStats();
  EXPECT_EQ(stats.open_executions, 0u);

  std::cout << iterations << " kills; " << runs.size() << " workflows, all completed; acks:";
  for (const auto& [kind, n] : counts.acks) std::cout << " " << kind << "=" << n;
  std::cout << "; timeouts:";
  for (const auto& [type, n] : timeouts) std::cout << " " << type << "=" << n;
  std::cout << "\n";
  // Not vacuous: the killed drivers got work done.
  EXPECT_GT(counts.acks["started"], 0u);
  EXPECT_GT(counts.acks["activity-completed"], 0u);
  // The finishing driver's own figures: with many clients, commits hold
  // several calls each.
  long calls = 0;
  unsigned long long commits = 0;
  const std::string log = DriverLog();
  const std::size_t at = log.rfind("calls ");
  ASSERT_NE(at, std::string::npos) << log;
  ASSERT_EQ(std::sscanf(log.c_str() + at, "calls %ld commits %llu", &calls, &commits), 2) << log;
  std::cout << clients << " clients: the finishing driver made " << calls << " calls in "
            << commits << " commits\n";
  if (clients >= 8) {
    EXPECT_GT(calls, static_cast<long>(commits)) << "no commit held two calls";
  }
}

}  // namespace
}  // namespace garcon::crash
