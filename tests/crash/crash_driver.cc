// The process the crash test kills. It opens an Engine on a SQLite file
// (system clock, timer thread) and drives workflows with a decider and an
// activity worker of its own: each workflow w-0, w-1, ... runs kSteps
// activities in sequence, then completes. After every call the engine
// acknowledged, it appends a line to the ack log (crash_common.h).
//
//   crash_driver DB ACKLOG run    [--sync=full|normal] [--clients=N]   starts and drives
//       workflows until killed; never exits on its own unless something
//       fails (exit 3, reason on stderr).
//   crash_driver DB ACKLOG finish [--sync=full|normal] [--clients=N]   starts
//       nothing; drives every open workflow to its end, prints
//       "calls C commits K" (the engine's store commits) and exits 0 (4:
//       timed out).
// --clients=N: N decider threads and N worker threads (default 2), all
// writing at once, so that commits hold the calls of several threads.
//
// Restartable: it registers what is missing, continues whatever the file
// holds (queued tasks; tasks a killed driver had started time out after
// kDecisionTimeout / kActivityTimeout), and starts new workflows with ids
// after the last acknowledged one.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crash/crash_common.h"
#include "garcon/engine.h"
#include "garcon/store.h"

namespace garcon::crash {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "crash_driver: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(3);
}

// The ack log: O_APPEND, one write(2) per line, fdatasync'd.
class AckLog {
 public:
  explicit AckLog(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) Die("cannot open the ack log " + path + ": " + std::strerror(errno));
    DropTornLine();
  }
  void Write(std::string line) {
    line += '\n';
    const ssize_t n = ::write(fd_, line.data(), line.size());
    if (n != static_cast<ssize_t>(line.size())) Die("writing the ack log failed");
    if (::fdatasync(fd_) != 0) Die("fdatasync of the ack log failed");
  }

 private:
  // A kill can land between the pages of one write(2), leaving a line without
  // its newline. That call was never acknowledged: cut the torn tail so this
  // run's first line does not glue onto it.
  void DropTornLine() {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) Die("cannot stat the ack log");
    off_t keep = st.st_size;
    char c = '\n';
    while (keep > 0) {
      if (::pread(fd_, &c, 1, keep - 1) != 1) Die("cannot read the ack log");
      if (c == '\n') break;
      --keep;
    }
    if (keep != st.st_size && ::ftruncate(fd_, keep) != 0) Die("cannot cut the ack log");
  }

  int fd_ = -1;
};

class Driver {
 public:
  Driver(engine::Engine& engine, AckLog& acks) : engine_(engine), acks_(acks) {}

  // Registers what a killed driver did not; acknowledges what it registered.
  void Register() {
    Expect("RegisterDomain", {{"name", kDomain}, {"workflowExecutionRetentionPeriodInDays", "1"}},
           Fault::kDomainAlreadyExists);
    Expect("RegisterWorkflowType",
           {{"domain", kDomain},
            {"name", kWorkflowType},
            {"version", kVersion},
            {"defaultTaskList", {{"name", kDecisionList}}},
            {"defaultTaskStartToCloseTimeout", kDecisionTimeout},
            {"defaultExecutionStartToCloseTimeout", "3600"},
            {"defaultChildPolicy", "TERMINATE"}},
           Fault::kTypeAlreadyExists);
    Expect("RegisterActivityType",
           {{"domain", kDomain},
            {"name", kActivityType},
            {"version", kVersion},
            {"defaultTaskList", {{"name", kActivityList}}},
            {"defaultTaskScheduleToStartTimeout", "NONE"},
            {"defaultTaskScheduleToCloseTimeout", "NONE"},
            {"defaultTaskStartToCloseTimeout", kActivityTimeout},
            {"defaultTaskHeartbeatTimeout", "NONE"}},
           Fault::kTypeAlreadyExists);
  }

  // Starts w-<next>, w-<next+1>, ... keeping at most `max_open` open.
  void Starter(long next, std::size_t max_open) {
    while (!stop_) {
      if (engine_.GetStats().open_executions >= max_open) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      const std::string workflow_id = "w-" + std::to_string(next++);
      Result<Json> r =
          engine_.Call("StartWorkflowExecution",
                       {{"domain", kDomain},
                        {"workflowId", workflow_id},
                        {"workflowType", {{"name", kWorkflowType}, {"version", kVersion}}},
                        {"input", workflow_id}});
      // Started by a killed driver that did not get to acknowledge it.
      if (r.fault() == Fault::kWorkflowExecutionAlreadyStarted) continue;
      if (!r.ok()) Die("StartWorkflowExecution: " + r.status().ToString());
      acks_.Write("started " + workflow_id + " " + r->value("runId", ""));
    }
  }

  void Decider() {
    const Json poll{{"domain", kDomain},
                    {"taskList", {{"name", kDecisionList}}},
                    {"identity", "crash-decider"}};
    while (!stop_) {
      Result<Json> task = engine_.Call("PollForDecisionTask", poll);
      ++calls_;
      if (!task.ok()) Die("PollForDecisionTask: " + task.status().ToString());
      if (!swf::HasTask(*task)) continue;
      const std::string run_id = (*task)["workflowExecution"]["runId"];
      const std::string workflow_id = (*task)["workflowExecution"]["workflowId"];
      const std::string started = std::to_string((*task)["startedEventId"].get<long>());
      const std::string who = run_id + " " + workflow_id + " " + started;
      acks_.Write("decision-started " + who);

      Json events = (*task)["events"];
      std::string page_token = task->value("nextPageToken", "");
      bool lost = false;
      while (!page_token.empty()) {
        Json next = poll;
        next["nextPageToken"] = page_token;
        Result<Json> page = engine_.Call("PollForDecisionTask", next);
        if (page.fault() == Fault::kUnknownResource) {  // the task timed out
          lost = true;
          break;
        }
        if (!page.ok()) Die("PollForDecisionTask (next page): " + page.status().ToString());
        for (const Json& e : (*page)["events"]) events.push_back(e);
        page_token = page->value("nextPageToken", "");
      }
      if (lost) continue;

      bool closing = false;
      const Json decisions = Decide(events, &closing);
      Result<Json> r =
          engine_.Call("RespondDecisionTaskCompleted",
                       {{"taskToken", (*task)["taskToken"]}, {"decisions", decisions}});
      // A task that took longer than its timeout (a loaded machine): SWF
      // answers UnknownResource, and the workflow gets a new decision task.
      ++calls_;
      if (r.fault() == Fault::kUnknownResource) continue;
      if (!r.ok()) Die("RespondDecisionTaskCompleted: " + r.status().ToString());
      acks_.Write("decided " + who);
      if (closing) acks_.Write("closed " + run_id + " " + workflow_id);
    }
  }

  void Worker() {
    const Json poll{
        {"domain", kDomain}, {"taskList", {{"name", kActivityList}}}, {"identity", "crash-worker"}};
    while (!stop_) {
      Result<Json> task = engine_.Call("PollForActivityTask", poll);
      ++calls_;
      if (!task.ok()) Die("PollForActivityTask: " + task.status().ToString());
      if (!swf::HasTask(*task)) continue;
      const std::string run_id = (*task)["workflowExecution"]["runId"];
      const std::string workflow_id = (*task)["workflowExecution"]["workflowId"];
      const std::string started = std::to_string((*task)["startedEventId"].get<long>());
      const std::string activity_id = (*task)["activityId"];
      const std::string who = run_id + " " + workflow_id + " " + started;
      acks_.Write("activity-started " + who);
      Result<Json> r =
          engine_.Call("RespondActivityTaskCompleted",
                       {{"taskToken", (*task)["taskToken"]}, {"result", "done " + activity_id}});
      ++calls_;
      if (r.fault() == Fault::kUnknownResource) continue;  // timed out meanwhile
      if (!r.ok()) Die("RespondActivityTaskCompleted: " + r.status().ToString());
      acks_.Write("activity-completed " + who + " " + activity_id);
    }
  }

  void Stop() { stop_ = true; }
  long calls() const { return calls_.load(); }

 private:
  // The decider: from the whole history, what to do next. One activity at a
  // time; one that timed out (its worker was killed) is scheduled again
  // under a new activity id; after kSteps completions, complete.
  static Json Decide(const Json& events, bool* closing) {
    int completed = 0;
    int scheduled = 0;
    std::set<long> open;  // scheduled event ids of activities not closed
    for (const Json& e : events) {
      const std::string type = e["eventType"];
      if (type == "ActivityTaskScheduled") {
        ++scheduled;
        open.insert(e["eventId"].get<long>());
        continue;
      }
      const char* attributes = nullptr;
      if (type == "ActivityTaskCompleted") {
        ++completed;
        attributes = "activityTaskCompletedEventAttributes";
      } else if (type == "ActivityTaskTimedOut") {
        attributes = "activityTaskTimedOutEventAttributes";
      } else if (type == "ActivityTaskFailed") {
        attributes = "activityTaskFailedEventAttributes";
      } else if (type == "ActivityTaskCanceled") {
        attributes = "activityTaskCanceledEventAttributes";
      }
      if (attributes != nullptr) open.erase(e[attributes]["scheduledEventId"].get<long>());
    }
    *closing = false;
    if (!open.empty()) return Json::array();  // wait for it
    if (completed < kSteps) {
      return Json::array(
          {{{"decisionType", "ScheduleActivityTask"},
            {"scheduleActivityTaskDecisionAttributes",
             {{"activityType", {{"name", kActivityType}, {"version", kVersion}}},
              {"activityId", "step-" + std::to_string(completed) + "." + std::to_string(scheduled)},
              {"input", std::to_string(completed)}}}}});
    }
    *closing = true;
    return Json::array({{{"decisionType", "CompleteWorkflowExecution"},
                         {"completeWorkflowExecutionDecisionAttributes",
                          {{"result", std::to_string(completed) + " steps"}}}}});
  }

  void Expect(const char* operation, const Json& request, Fault tolerated) {
    Result<Json> r = engine_.Call(operation, request);
    if (r.ok()) {
      acks_.Write(std::string("registered ") + operation);
    } else if (r.fault() != tolerated) {
      Die(std::string(operation) + ": " + r.status().ToString());
    }
  }

  engine::Engine& engine_;
  AckLog& acks_;
  std::atomic<bool> stop_{false};
  std::atomic<long> calls_{0};
};

int Main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: crash_driver DB ACKLOG run|finish [--sync=full|normal]\n");
    return 2;
  }
  const std::string db = argv[1];
  const std::string ack_path = argv[2];
  const std::string mode = argv[3];
  store::SqliteOptions sqlite;
  int clients = 2;
  for (int i = 4; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--sync=normal") {
      sqlite.synchronous_full = false;
    } else if (arg.rfind("--clients=", 0) == 0) {
      clients = std::max(1, std::atoi(arg.c_str() + 10));
    } else if (arg != "--sync=full") {
      Die("unknown argument " + arg);
    }
  }
  if (mode != "run" && mode != "finish") Die("unknown mode " + mode);

  // The next workflow number: after the last acknowledged start.
  long next = 0;
  for (const Ack& ack : ReadAckLog(ack_path)) {
    if (ack.kind == "started" && !ack.fields.empty()) {
      next = std::max(next, WorkflowNumber(ack.fields[0]) + 1);
    }
  }

  auto opened = store::OpenSqliteStore(db, sqlite);
  if (!opened.ok()) Die("opening the store: " + opened.status().ToString());
  engine::EngineOptions options;
  options.store = *opened;
  options.poll_timeout = std::chrono::milliseconds(200);  // so loops see stop_ soon
  auto engine = engine::Engine::Open(std::move(options));
  if (!engine.ok()) Die("opening the engine: " + engine.status().ToString());
  AckLog acks(ack_path);
  Driver driver(**engine, acks);
  driver.Register();

  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) threads.emplace_back([&] { driver.Decider(); });
  for (int i = 0; i < clients; ++i) threads.emplace_back([&] { driver.Worker(); });
  if (mode == "run") {
    driver.Starter(next, /*max_open=*/3 * static_cast<std::size_t>(clients));  // until killed
    return 3;
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  int code = 0;
  while ((*engine)->GetStats().open_executions > 0) {
    if (std::chrono::steady_clock::now() > give_up) {
      std::fprintf(stderr, "crash_driver: %zu executions still open after 90 s\n",
                   (*engine)->GetStats().open_executions);
      code = 4;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  driver.Stop();
  (*engine)->Shutdown();
  for (auto& t : threads) t.join();
  std::printf("calls %ld commits %llu\n", driver.calls(),
              static_cast<unsigned long long>((*engine)->GetStats().store_commits));
  return code;
}

}  // namespace
}  // namespace garcon::crash

int main(int argc, char** argv) { return garcon::crash::Main(argc, argv); }
