// The activity worker against a scripted swf::Service: polls, runs the
// activity's runner, heartbeats and answers completed or failed. Ported from
// the original Garcon's test_activity.py (execute_activity, run, poll).
#include "garcon/worker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "garcon/flow.h"
#include "garcon/runner.h"
#include "garcon/service.h"

namespace garcon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Records every call in order; answers polls from a script (an empty poll
// when the script is empty), other operations with `faults` or `{}`.
class FakeService : public swf::Service {
 public:
  Result<Json> Call(std::string_view operation, const Json& request) override {
    std::unique_lock lock(mu_);
    log_.push_back(std::string(operation));
    calls_.emplace_back(std::string(operation), request);
    if (operation == "PollForActivityTask") {
      if (polls_.empty()) {
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return Json{{"startedEventId", 0}};
      }
      Result<Json> next = std::move(polls_.front());
      polls_.pop_front();
      return next;
    }
    if (auto it = faults_.find(std::string(operation)); it != faults_.end()) return it->second;
    if (operation == "RecordActivityTaskHeartbeat") {
      return Json{{"cancelRequested", cancel_requested_}};
    }
    return Json::object();
  }

  void Script(Result<Json> poll) {
    std::lock_guard lock(mu_);
    polls_.push_back(std::move(poll));
  }
  void Fail(const std::string& operation, Status status) {
    std::lock_guard lock(mu_);
    faults_[operation] = std::move(status);
  }
  void CancelRequested(bool value) {
    std::lock_guard lock(mu_);
    cancel_requested_ = value;
  }
  // A line in the call log, for ordering calls against task runs.
  void Note(std::string line) {
    std::lock_guard lock(mu_);
    log_.push_back(std::move(line));
  }

  std::vector<Json> Requests(const std::string& operation) {
    std::lock_guard lock(mu_);
    std::vector<Json> out;
    for (const auto& [op, request] : calls_) {
      if (op == operation) out.push_back(request);
    }
    return out;
  }
  std::vector<std::string> Log() {
    std::lock_guard lock(mu_);
    return log_;
  }
  // Operations other than polls, in order.
  std::vector<std::string> Answers() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [op, request] : calls_) {
      if (op != "PollForActivityTask") out.push_back(op);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::deque<Result<Json>> polls_;
  std::map<std::string, Status> faults_;
  bool cancel_requested_ = false;
  std::vector<std::string> log_;
  std::vector<std::pair<std::string, Json>> calls_;
};

// An activity task as PollForActivityTask returns it.
Json ActivityTask(const std::string& activity_name, const Json& input,
                  const std::string& token = "token-1") {
  Json task = {{"taskToken", token},
               {"activityId", activity_name + "-1"},
               {"startedEventId", 6},
               {"workflowExecution", {{"workflowId", "wf-1"}, {"runId", "run-1"}}},
               {"activityType", {{"name", activity_name}, {"version", "1.0"}}}};
  if (input.is_string()) task["input"] = input;
  if (input.is_object()) task["input"] = input.dump();
  return task;
}

struct HandlerCalls {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> calls;  // actor, what()
  ExceptionHandler Handler() {
    return [this](const std::string& actor, const std::exception& e) {
      std::lock_guard lock(mu);
      calls.emplace_back(actor, e.what());
    };
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return calls.size();
  }
};

class WorkerTest : public ::testing::Test {
 protected:
  WorkerTest() { flow_.OnException(handler_.Handler()); }

  // Polls `activity` once with one scripted task and returns the result.
  Result<bool> RunOnce(const Activity& activity, const Json& input) {
    service_.Script(ActivityTask(activity.name(), input));
    ActivityWorker worker(flow_, service_, WorkerOptions{"test-worker"});
    return worker.PollOnce(activity);
  }

  Json OnlyFailure() {
    const auto failed = service_.Requests("RespondActivityTaskFailed");
    EXPECT_THAT(failed, SizeIs(1));
    EXPECT_THAT(service_.Requests("RespondActivityTaskCompleted"), IsEmpty());
    return failed.empty() ? Json::object() : failed[0];
  }

  Flow flow_{"dev", "flow"};
  FakeService service_;
  HandlerCalls handler_;
};

TEST_F(WorkerTest, ATaskOfAnotherVersionFailsWithoutRunning) {
  bool ran = false;
  auto& activity = flow_.Activity("a").Run(Sync([&ran](ActivityExecution&, const Context&) {
    ran = true;
    return Context::object();
  }));
  Json task = ActivityTask(activity.name(), Json::object());
  task["activityType"]["version"] = "2.0";
  service_.Script(task);
  ActivityWorker worker(flow_, service_, WorkerOptions{"test-worker"});
  ASSERT_TRUE(worker.PollOnce(activity).ok());
  EXPECT_FALSE(ran);
  const Json failed = OnlyFailure();
  EXPECT_THAT(failed.at("reason").get<std::string>(), HasSubstr("version 2.0"));
  EXPECT_THAT(failed.at("reason").get<std::string>(), HasSubstr("flow_a version 1.0"));
}

TEST_F(WorkerTest, ATaskListTagIsAppendedToEveryList) {
  auto& activity = flow_.Activity("a").Run(Sync([](ActivityExecution&, const Context&) {
    return Context::object();
  }));
  service_.Script(ActivityTask(activity.name(), Json::object()));
  WorkerOptions options{"test-worker"};
  options.task_list_tag = "~run-1";
  ActivityWorker worker(flow_, service_, options);
  ASSERT_TRUE(worker.PollOnce(activity).ok());
  EXPECT_EQ(service_.Requests("PollForActivityTask")[0].at("taskList"),
            (Json{{"name", "flow_a@1.0~run-1"}}));
}

TEST_F(WorkerTest, ACompletedTaskAnswersWithTheMergedResult) {
  auto& activity = flow_.Activity("a").Run(Sync(
      [](ActivityExecution&, const Context&) {
        return Context{{"b", 2}};
      },
      Task([](ActivityExecution&, int a, int b) {
        return Context{{"c", a + b}};
      }).Fill("a", "b")));
  Result<bool> handled = RunOnce(activity, Json{{"a", 1}});
  ASSERT_TRUE(handled.ok()) << handled.status().ToString();
  EXPECT_TRUE(*handled);

  const auto polls = service_.Requests("PollForActivityTask");
  ASSERT_THAT(polls, SizeIs(1));
  EXPECT_EQ(
      polls[0],
      (Json{{"domain", "dev"}, {"taskList", {{"name", "flow_a@1.0"}}}, {"identity", "test-worker"}}));
  const auto completed = service_.Requests("RespondActivityTaskCompleted");
  ASSERT_THAT(completed, SizeIs(1));
  EXPECT_EQ(completed[0].at("taskToken"), "token-1");
  EXPECT_EQ(Json::parse(completed[0].at("result").get<std::string>()), (Json{{"b", 2}, {"c", 3}}));
  EXPECT_THAT(service_.Requests("RespondActivityTaskFailed"), IsEmpty());
  EXPECT_EQ(handler_.size(), 0u);
}

TEST_F(WorkerTest, TheTaskSeesItsExecution) {
  ExecutionInfo seen;
  auto& activity =
      flow_.Activity("a").Run(Sync([&](ActivityExecution& e, const Context&) { seen = e.info(); }));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  EXPECT_EQ(seen.domain, "dev");
  EXPECT_EQ(seen.workflow_id, "wf-1");
  EXPECT_EQ(seen.run_id, "run-1");
  EXPECT_EQ(seen.activity_id, "flow_a-1");
  EXPECT_EQ(seen.activity_name, "flow_a");
}

TEST_F(WorkerTest, AFailingTaskFailsTheActivityWithThe255FirstCharacters) {
  const std::string message = "ValueError: " + std::string(300, 'e') + " end";
  auto& activity = flow_.Activity("a").Run(Sync(
      [&](ActivityExecution&, const Context&) -> Context { throw std::runtime_error(message); }));
  Result<bool> handled = RunOnce(activity, Json::object());
  ASSERT_TRUE(handled.ok()) << handled.status().ToString();
  EXPECT_TRUE(*handled) << "a failed task was answered: it counts as handled";

  const Json failed = OnlyFailure();
  EXPECT_EQ(failed.value("taskToken", ""), "token-1");
  EXPECT_EQ(failed.value("reason", ""), message.substr(0, 255));
  EXPECT_EQ(failed.value("details", ""), message);

  ASSERT_EQ(handler_.size(), 1u);
  EXPECT_EQ(handler_.calls[0].first, "flow_a");
  EXPECT_EQ(handler_.calls[0].second, message);
}

TEST_F(WorkerTest, TheActivityHandlerOverridesTheFlows) {
  HandlerCalls own;
  auto& activity = flow_.Activity("a")
                       .OnException(own.Handler())
                       .Run(Sync([](ActivityExecution&, const Context&) -> Context {
                         throw std::runtime_error("boom");
                       }));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  EXPECT_EQ(handler_.size(), 0u);
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own.calls[0].second, "boom");
}

TEST_F(WorkerTest, AHandlerThatThrowsDoesNotStopTheAnswer) {
  auto& activity = flow_.Activity("a")
                       .OnException([](const std::string&, const std::exception&) {
                         throw std::runtime_error("handler bug");
                       })
                       .Run(Sync([](ActivityExecution&, const Context&) -> Context {
                         throw std::runtime_error("boom");
                       }));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  EXPECT_EQ(OnlyFailure().value("reason", ""), "boom");
}

TEST_F(WorkerTest, AnUnserialisableResultFailsTheActivity) {
  auto& activity = flow_.Activity("a").Run(Sync([](ActivityExecution&, const Context&) {
    return Context{{"bad", std::string("caf\xe9 \xff")}};  // Latin-1, not UTF-8
  }));
  Result<bool> handled = RunOnce(activity, Json::object());
  ASSERT_TRUE(handled.ok()) << handled.status().ToString();
  EXPECT_TRUE(*handled);
  EXPECT_THAT(OnlyFailure().value("reason", ""), HasSubstr("UTF-8"));
  EXPECT_EQ(handler_.size(), 1u);
}

TEST_F(WorkerTest, APollWithNoTaskDoesNothing) {
  bool ran = false;
  auto& activity =
      flow_.Activity("a").Run(Sync([&](ActivityExecution&, const Context&) { ran = true; }));
  service_.Script(Json{{"startedEventId", 0}});
  ActivityWorker worker(flow_, service_);
  Result<bool> handled = worker.PollOnce(activity);
  ASSERT_TRUE(handled.ok());
  EXPECT_FALSE(*handled);
  EXPECT_FALSE(ran);
  EXPECT_THAT(service_.Answers(), IsEmpty());
  // An empty taskToken is no task either.
  service_.Script(Json{{"taskToken", ""}, {"startedEventId", 0}});
  handled = worker.PollOnce(activity);
  ASSERT_TRUE(handled.ok());
  EXPECT_FALSE(*handled);
  EXPECT_THAT(service_.Answers(), IsEmpty());
}

TEST_F(WorkerTest, AHeartbeatIsRecordedBeforeEachSyncTask) {
  auto& activity = flow_.Activity("a").Run(
      Sync([&](ActivityExecution&, const Context&) { service_.Note("task 1"); },
           [&](ActivityExecution&, const Context&) { service_.Note("task 2"); },
           [&](ActivityExecution&, const Context&) { service_.Note("task 3"); }));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  EXPECT_THAT(service_.Log(),
              ElementsAre("PollForActivityTask", "RecordActivityTaskHeartbeat", "task 1",
                          "RecordActivityTaskHeartbeat", "task 2", "RecordActivityTaskHeartbeat",
                          "task 3", "RespondActivityTaskCompleted"));
  for (const auto& heartbeat : service_.Requests("RecordActivityTaskHeartbeat")) {
    EXPECT_EQ(heartbeat.at("taskToken"), "token-1");
  }
}

TEST_F(WorkerTest, ASlowTaskIsHeartbeatOnATimer) {
  auto& activity = flow_.Activity("a").Run(Sync([&](ActivityExecution&, const Context&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(450));
  }));
  service_.Script(ActivityTask(activity.name(), Json::object()));
  ActivityWorker worker(flow_, service_, WorkerOptions{"w", {}, std::chrono::milliseconds(100)});
  ASSERT_TRUE(worker.PollOnce(activity).ok());
  // One before the task, then one every 100 ms while it sleeps.
  EXPECT_GE(service_.Requests("RecordActivityTaskHeartbeat").size(), 3u);
  EXPECT_THAT(service_.Requests("RespondActivityTaskCompleted"), SizeIs(1));
}

TEST_F(WorkerTest, AVeryLongHeartbeatTimeoutDoesNotOverflowTheInterval) {
  // 30 days: heartbeat_timeout * 1000 does not fit in an int.
  auto& activity =
      flow_.Activity("a").Run(Sync(Task([&](ActivityExecution&, const Context&) {
                                     std::this_thread::sleep_for(std::chrono::milliseconds(350));
                                   }).Timeout(30 * 24 * 3600)));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  // Only the heartbeat before the task: the timer ticks every 30 s.
  EXPECT_THAT(service_.Requests("RecordActivityTaskHeartbeat"), SizeIs(1));
}

TEST_F(WorkerTest, ANonStandardExceptionFailsTheActivity) {
  auto& activity =
      flow_.Activity("a").Run(Sync([](ActivityExecution&, const Context&) { throw 42; }));
  Result<bool> handled = RunOnce(activity, Json::object());
  ASSERT_TRUE(handled.ok()) << handled.status().ToString();
  EXPECT_TRUE(*handled);
  EXPECT_THAT(OnlyFailure().value("reason", ""), HasSubstr("unknown exception"));
  EXPECT_EQ(handler_.size(), 1u);
}

TEST_F(WorkerTest, ACancellationRequestStopsASyncRunnerBeforeItsNextTask) {
  service_.CancelRequested(true);
  bool ran = false;
  auto& activity = flow_.Activity("a").Run(
      Sync([&](ActivityExecution&, const Context&) { ran = true; }));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  EXPECT_FALSE(ran);
  const auto canceled = service_.Requests("RespondActivityTaskCanceled");
  ASSERT_THAT(canceled, SizeIs(1));
  EXPECT_EQ(canceled[0].at("details"), "canceled after 0 of 1 tasks");
  EXPECT_THAT(service_.Requests("RespondActivityTaskFailed"), IsEmpty());
  EXPECT_THAT(service_.Requests("RespondActivityTaskCompleted"), IsEmpty());
  EXPECT_EQ(handler_.size(), 0u) << "a cancellation is not an error";
}

TEST_F(WorkerTest, ALongTaskLearnsOfTheRequestFromItsHeartbeatsAndStopsCleanly) {
  auto& activity = flow_.Activity("a").Run(Async([&](ActivityExecution& e, const Context&) {
    EXPECT_FALSE(e.cancel_requested());
    service_.CancelRequested(true);  // someone asks while the task runs
    e.ThrowIfCancelRequested("stopped at item 7");
    ADD_FAILURE() << "not reached";
  }));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  const auto canceled = service_.Requests("RespondActivityTaskCanceled");
  ASSERT_THAT(canceled, SizeIs(1));
  EXPECT_EQ(canceled[0].at("details"), "stopped at item 7");
}

TEST_F(WorkerTest, AnyErrorOnceCancellationWasRequestedIsACancellation) {
  auto& activity = flow_.Activity("a").Run(Async([&](ActivityExecution& e, const Context&) {
    service_.CancelRequested(true);
    e.Heartbeat();
    throw std::runtime_error("interrupted");
  }));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  ASSERT_THAT(service_.Requests("RespondActivityTaskCanceled"), SizeIs(1));
  EXPECT_THAT(service_.Requests("RespondActivityTaskFailed"), IsEmpty());
}

TEST_F(WorkerTest, ATaskThatFinishesDespiteTheRequestCompletes) {
  auto& activity = flow_.Activity("a").Run(Async([&](ActivityExecution& e, const Context&) {
    service_.CancelRequested(true);
    EXPECT_TRUE(e.Heartbeat());
    return Context{{"done", true}};
  }));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  EXPECT_THAT(service_.Requests("RespondActivityTaskCompleted"), SizeIs(1));
  EXPECT_THAT(service_.Requests("RespondActivityTaskCanceled"), IsEmpty());
}

TEST_F(WorkerTest, AFailingHeartbeatDoesNotFailTheTask) {
  service_.Fail("RecordActivityTaskHeartbeat", Status(Fault::kServiceUnavailable, "down"));
  auto& activity = flow_.Activity("a").Run(Sync([](ActivityExecution&, const Context&) {
    return Context{{"ok", true}};
  }));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  const auto completed = service_.Requests("RespondActivityTaskCompleted");
  ASSERT_THAT(completed, SizeIs(1));
  EXPECT_EQ(completed[0].at("result"), R"({"ok":true})");
}

TEST_F(WorkerTest, AResultOver32768CharactersFailsWhereNoPayloadStoreTakesIt) {
  // This service has no PutPayload (as Amazon SWF): the attempt fails,
  // saying why.
  service_.Fail("PutPayload", Status(Fault::kUnknownOperation, "Unknown operation PutPayload"));
  auto& activity = flow_.Activity("a").Run(Sync([](ActivityExecution&, const Context&) {
    return Context{{"huge", std::string(40000, 'h')}};
  }));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  const std::string reason = OnlyFailure().value("reason", "");
  EXPECT_THAT(reason, HasSubstr("activity result"));
  EXPECT_THAT(reason, HasSubstr("32768"));
  EXPECT_THAT(service_.Requests("RespondActivityTaskCompleted"), IsEmpty());
}

TEST_F(WorkerTest, AResultOf32768CharactersIsFine) {
  // {"k":"..."}: 8 characters around the value.
  auto& activity = flow_.Activity("a").Run(Sync([](ActivityExecution&, const Context&) {
    return Context{{"k", std::string(32768 - 8, 'x')}};
  }));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  const auto completed = service_.Requests("RespondActivityTaskCompleted");
  ASSERT_THAT(completed, SizeIs(1));
  EXPECT_EQ(completed[0].at("result").get<std::string>().size(), 32768u);
}

TEST_F(WorkerTest, AnInputThatIsNotAnObjectFails) {
  auto& activity = flow_.Activity("a").Run(Sync([](ActivityExecution&, const Context&) {}));
  ASSERT_TRUE(RunOnce(activity, Json("[1, 2]")).ok());
  EXPECT_THAT(OnlyFailure().value("reason", ""), HasSubstr("not a JSON object"));
}

TEST_F(WorkerTest, AMissingInputIsAnEmptyContext) {
  Context seen = "unset";
  auto& activity =
      flow_.Activity("a").Run(Sync([&](ActivityExecution&, const Context& c) { seen = c; }));
  ASSERT_TRUE(RunOnce(activity, nullptr).ok());
  EXPECT_EQ(seen, Context::object());
  EXPECT_THAT(service_.Requests("RespondActivityTaskCompleted"), SizeIs(1));
}

TEST_F(WorkerTest, AMissingParameterFailsWithTheKey) {
  auto& activity =
      flow_.Activity("a").Run(Sync(Task([](ActivityExecution&, int) {}).Fill("user.id")));
  ASSERT_TRUE(RunOnce(activity, Json::object()).ok());
  EXPECT_THAT(OnlyFailure().value("reason", ""), HasSubstr("'user.id'"));
}

TEST_F(WorkerTest, AFailingPollReturnsTheErrorStatus) {
  auto& activity = flow_.Activity("a").Run(Sync([](ActivityExecution&, const Context&) {}));
  service_.Script(Status(Fault::kServiceUnavailable, "connection refused"));
  ActivityWorker worker(flow_, service_);
  Result<bool> handled = worker.PollOnce(activity);
  ASSERT_FALSE(handled.ok());
  EXPECT_EQ(handled.status(), Status(Fault::kServiceUnavailable, "connection refused"));
  EXPECT_THAT(service_.Answers(), IsEmpty());
}

TEST_F(WorkerTest, AFailingRespondReturnsTheErrorStatus) {
  auto& activity = flow_.Activity("a").Run(Sync([](ActivityExecution&, const Context&) {}));
  service_.Fail("RespondActivityTaskCompleted", Status(Fault::kUnknownResource, "Unknown task"));
  Result<bool> handled = RunOnce(activity, Json::object());
  ASSERT_FALSE(handled.ok());
  EXPECT_EQ(handled.status(), Status(Fault::kUnknownResource, "Unknown task"));
}

TEST_F(WorkerTest, ServesEveryActivityButExternalOnesByDefault) {
  auto& a = flow_.Activity("a");
  flow_.Activity("ext").External(60);
  auto& b = flow_.Activity("b");
  ActivityWorker all(flow_, service_);
  EXPECT_THAT(all.activities(), ElementsAre(&a, &b));
  ActivityWorker some(flow_, service_, WorkerOptions{"w", {"flow_b"}});
  EXPECT_THAT(some.activities(), ElementsAre(&b));
  EXPECT_THROW(ActivityWorker(flow_, service_, WorkerOptions{"w", {"nope"}}),
               std::invalid_argument);
  EXPECT_THROW(ActivityWorker(flow_, service_, WorkerOptions{"w", {"ext"}}), std::invalid_argument);
}

TEST_F(WorkerTest, RunKeepsLoopingAfterAPollErrorAndStopsOnRequest) {
  std::atomic<int> ran{0};
  flow_.Activity("a").Run(Sync([&](ActivityExecution&, const Context&) {
    ++ran;
    return Context{{"done", true}};
  }));
  service_.Script(Status(Fault::kServiceUnavailable, "network down"));
  service_.Script(ActivityTask("flow_a", Json::object()));
  ActivityWorker worker(flow_, service_);
  std::stop_source stop;
  std::thread loop([&] { worker.Run(stop.get_token()); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (service_.Requests("RespondActivityTaskCompleted").empty() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop.request_stop();
  loop.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_THAT(service_.Requests("RespondActivityTaskCompleted"), SizeIs(1));
  ASSERT_GE(handler_.size(), 1u);
  EXPECT_EQ(handler_.calls[0].first, "flow_a");
  EXPECT_THAT(handler_.calls[0].second, HasSubstr("network down"));
}

}  // namespace
}  // namespace garcon
