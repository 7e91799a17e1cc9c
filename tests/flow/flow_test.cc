// The flow definition API, ported from the original Garcon's tests
// (test_activity.py, test_runner.py, test_task.py) and extended to the C++
// behaviour: instances, timeouts, instance ids, activity inputs, runners and
// tasks.
#include "garcon/flow.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "garcon/activity_execution.h"
#include "garcon/runner.h"
#include "garcon/task.h"

namespace garcon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// sha1 of "'d':'0';'i':'0';", checked with
// `printf "'d':'0';'i':'0';" | sha1sum`.
constexpr char kSha1Di00[] = "556ecdd6396db6eb2d02bab8ffc05c75488da20a";
// sha1 of "'country':'fr';", checked with `printf "'country':'fr';" | sha1sum`.
constexpr char kSha1CountryFr[] = "c562a3405402d674377158cd4eb661d214ce5dee";

// A generator of `n` local contexts {key: 0}, ..., {key: n-1}.
GeneratorFn Values(std::string key, int n) {
  return [key, n](const Context&) {
    std::vector<Context> out;
    for (int i = 0; i < n; ++i) out.push_back({{key, i}});
    return out;
  };
}

Task Noop() {
  return Task([](ActivityExecution&, const Context&) {});
}

Task NoopWithTimeout(int seconds, std::optional<int> heartbeat = std::nullopt) {
  return Noop().Timeout(seconds, heartbeat);
}

// ---------------------------------------------------------------------------
// Instances and their timeouts.

class GeneratorCountTest : public ::testing::TestWithParam<int> {};

TEST_P(GeneratorCountTest, InstancesAndTimeouts) {
  const int generators = GetParam();
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity")
                       .ScheduleToStart(1000)
                       .Run(Sync(NoopWithTimeout(120), NoopWithTimeout(120)));
  for (int g = 0; g < generators; ++g) activity.Generator(Values("g" + std::to_string(g), 10));

  const auto instances = activity.Instances(Context::object());
  std::size_t expected = 1;
  for (int g = 0; g < generators; ++g) expected *= 10;
  ASSERT_EQ(instances.size(), expected);

  std::set<std::string> ids;
  for (const auto& instance : instances) {
    EXPECT_EQ(instance.Timeout(), 240);
    EXPECT_EQ(instance.Heartbeat(), 120);
    EXPECT_EQ(instance.ScheduleToStart(), 1000 * static_cast<int>(expected));
    EXPECT_EQ(instance.ScheduleToClose(), 1000 * static_cast<int>(expected) + 240);
    ids.insert(instance.id());
  }
  EXPECT_EQ(ids.size(), expected) << "every instance has its own id";
}

INSTANTIATE_TEST_SUITE_P(ZeroOneTwo, GeneratorCountTest, ::testing::Values(0, 1, 2));

TEST(ActivityTest, DefaultTimeoutsOfAnUndecoratedTask) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity").Run(Sync(Noop()));
  const auto instances = activity.Instances(Context::object());
  ASSERT_EQ(instances.size(), 1u);
  EXPECT_EQ(instances[0].Timeout(), 600);
  EXPECT_EQ(instances[0].Heartbeat(), 600);
  EXPECT_EQ(instances[0].ScheduleToStart(), 600);
  EXPECT_EQ(instances[0].ScheduleToClose(), 1200);
}

TEST(ActivityTest, TheScheduleToStartOfAHugeFanOutStaysWithinSwfsDurations) {
  // Pessimistic (one worker runs them all): instances x 600 s, held at
  // SWF's 8 digits of seconds instead of overflowing.
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity").Run(Sync(NoopWithTimeout(120)));
  const ActivityInstance hundred_thousand(&activity, Context{{"generator.i", 1}}, nullptr, 100000);
  EXPECT_EQ(hundred_thousand.ScheduleToStart(), 60000000);
  EXPECT_EQ(hundred_thousand.ScheduleToClose(), 60000120);
  const ActivityInstance ten_million(&activity, Context{{"generator.i", 1}}, nullptr, 10000000);
  EXPECT_EQ(ten_million.ScheduleToStart(), 99999999);
  EXPECT_EQ(ten_million.ScheduleToClose(), 99999999);
}

TEST(ActivityTest, GeneratorsYieldingNothingGiveNoInstance) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity")
                       .Generator(Values("a", 3))
                       .Generator([](const Context&) { return std::vector<Context>{}; })
                       .Run(Sync(Noop()));
  EXPECT_TRUE(activity.Instances(Context::object()).empty());
}

TEST(ActivityTest, GeneratorsReadTheContext) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity")
                       .Generator([](const Context& context) {
                         std::vector<Context> out;
                         for (const auto& id : context.at("ids")) out.push_back({{"id", id}});
                         return out;
                       })
                       .Run(Sync(Noop()));
  const auto instances = activity.Instances(Context{{"ids", {4, 5, 6}}});
  ASSERT_EQ(instances.size(), 3u);
  EXPECT_EQ(instances[0].local_context(), (Context{{"id", 4}}));
  EXPECT_EQ(instances[2].local_context(), (Context{{"id", 6}}));
  EXPECT_EQ(instances[2].ScheduleToStart(), 3 * 600);
}

TEST(ActivityTest, GeneratorLocalContextsAreTheMergedCartesianProduct) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity")
                       .Generator([](const Context&) {
                         return std::vector<Context>{{{"a", 1}}, {{"a", 2}}};
                       })
                       .Generator([](const Context&) {
                         return std::vector<Context>{{{"b", "x"}}, {{"b", "y"}}, {{"b", "z"}}};
                       })
                       .Run(Sync(Noop()));
  std::vector<Context> locals;
  for (const auto& instance : activity.Instances(Context{{"global", true}, {"a", 0}})) {
    locals.push_back(instance.local_context());
  }
  EXPECT_THAT(locals, ElementsAre(Context{{"a", 1}, {"b", "x"}}, Context{{"a", 1}, {"b", "y"}},
                                  Context{{"a", 1}, {"b", "z"}}, Context{{"a", 2}, {"b", "x"}},
                                  Context{{"a", 2}, {"b", "y"}}, Context{{"a", 2}, {"b", "z"}}));

  // The merged context: the global context, overridden by the local one.
  const auto first = activity.Instances(Context{{"global", true}, {"a", 0}}).front();
  EXPECT_EQ(first.MergedContext(), (Context{{"global", true}, {"a", 1}, {"b", "x"}}));
}

TEST(ActivityTest, NamesAreQualifiedByTheFlow) {
  Flow flow("dom", "flow", "2.5");
  auto& activity = flow.Activity("activity");
  EXPECT_EQ(activity.name(), "flow_activity");
  EXPECT_EQ(activity.short_name(), "activity");
  EXPECT_EQ(flow.version(), "2.5");
  // Task lists carry the version: one version's deciders and workers never
  // take another's tasks.
  EXPECT_EQ(flow.task_list(), "flow@2.5");
  EXPECT_EQ(activity.task_list(), "flow_activity@2.5");
  EXPECT_EQ(flow.FindActivity("activity"), &activity);
  EXPECT_EQ(flow.FindActivity("flow_activity"), &activity);
  EXPECT_EQ(flow.FindActivity("other"), nullptr);
  EXPECT_EQ(Flow("dom", "f").version(), "1.0");
}

TEST(ActivityTest, DeclarationErrors) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity");
  EXPECT_THROW(activity.Requires({nullptr}), std::invalid_argument);
  EXPECT_THROW(activity.Retry(-1), std::invalid_argument);
  EXPECT_THROW(activity.ScheduleToStart(0), std::invalid_argument);
  EXPECT_TRUE(flow.Validate().ok());
}

// Mistakes in the shape of a flow are reported by Validate (and so by the
// flow program's commands), not thrown from its main.
TEST(FlowValidateTest, NameDeclaredTwice) {
  Flow flow("dom", "flow");
  flow.Activity("a");
  flow.Activity("b");
  EXPECT_NO_THROW(flow.Activity("a"));
  Status status = flow.Validate();
  EXPECT_EQ(status.fault(), Fault::kValidation);
  EXPECT_THAT(status.message(), HasSubstr("activity 'a' is declared twice"));
}

TEST(FlowValidateTest, RequirementOnItself) {
  Flow flow("dom", "flow");
  auto& a = flow.Activity("a");
  EXPECT_NO_THROW(a.Requires({&a}));
  Status status = flow.Validate();
  EXPECT_EQ(status.fault(), Fault::kValidation);
  EXPECT_THAT(status.message(), HasSubstr("activity 'a' requires itself"));
}

TEST(FlowValidateTest, RequirementOfAnotherFlow) {
  Flow flow("dom", "flow");
  Flow other("dom", "other");
  auto& foreign = other.Activity("foreign");
  flow.Activity("a").Requires({&foreign});
  EXPECT_THAT(flow.Validate().message(),
              HasSubstr("activity 'a' requires 'foreign' of another flow (other)"));
}

TEST(FlowValidateTest, CircularRequirements) {
  Flow flow("dom", "flow");
  auto& a = flow.Activity("a");
  auto& b = flow.Activity("b").Requires({&a});
  auto& c = flow.Activity("c").Requires({&b});
  flow.Activity("d").Requires({&c});
  EXPECT_TRUE(flow.Validate().ok());
  a.Requires({&c});
  Status status = flow.Validate();
  EXPECT_EQ(status.fault(), Fault::kValidation);
  EXPECT_THAT(status.message(), HasSubstr("circular requirements (a -> c -> b -> a)"));
}

TEST(FlowValidateTest, FillThatDoesNotMatch) {
  Flow flow("dom", "flow");
  flow.Activity("a").Run(Sync(Task([](ActivityExecution&, int) {}).Fill("x", "y")));
  EXPECT_THAT(flow.Validate().message(),
              HasSubstr("activity 'a', task 1: Fill: the task takes 1 parameters after "
                        "ActivityExecution&, 2 given"));
}

TEST(FlowValidateTest, EveryMistakeAtOnce) {
  Flow flow("dom", "flow");
  auto& a = flow.Activity("a");
  a.Requires({&a});
  flow.Activity("a");
  const std::string message = flow.Validate().message();
  EXPECT_THAT(message, HasSubstr("declared twice"));
  EXPECT_THAT(message, HasSubstr("requires itself"));
}

TEST(ActivityTest, ExceptionHandlerFallsBackToTheFlow) {
  std::string seen;
  Flow flow("dom", "flow");
  flow.OnException(
      [&](const std::string& actor, const std::exception&) { seen = "flow:" + actor; });
  auto& plain = flow.Activity("plain");
  auto& own = flow.Activity("own").OnException(
      [&](const std::string& actor, const std::exception&) { seen = "own:" + actor; });
  plain.exception_handler()("a", std::runtime_error("x"));
  EXPECT_EQ(seen, "flow:a");
  own.exception_handler()("b", std::runtime_error("x"));
  EXPECT_EQ(seen, "own:b");
}

// ---------------------------------------------------------------------------
// Instance ids.

TEST(InstanceIdTest, WithoutLocalContext) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity").Run(Sync(Noop()));
  EXPECT_EQ(activity.Instances(Context{{"global", 1}}).at(0).id(), "flow_activity-1");
}

TEST(InstanceIdTest, Sha1OfSortedKeyValuePairs) {
  Flow flow("dom", "flow");
  // Keys inserted as i then d: they are hashed sorted, values as text.
  auto& activity = flow.Activity("activity")
                       .Generator([](const Context&) {
                         return std::vector<Context>{{{"i", 0}, {"d", 0}}};
                       })
                       .Run(Sync(Noop()));
  EXPECT_EQ(activity.Instances(Context::object()).at(0).id(),
            std::string("flow_activity-") + kSha1Di00);
}

TEST(InstanceIdTest, SameIdWhenTheLocalContextComesFromTwoGenerators) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity")
                       .Generator(Values("i", 1))
                       .Generator(Values("d", 1))
                       .Run(Sync(Noop()));
  EXPECT_EQ(activity.Instances(Context::object()).at(0).id(),
            std::string("flow_activity-") + kSha1Di00);
}

TEST(InstanceIdTest, StringValuesAreHashedWithoutQuotes) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity")
                       .Generator([](const Context&) {
                         return std::vector<Context>{{{"country", "fr"}}};
                       })
                       .Run(Sync(Noop()));
  EXPECT_EQ(activity.Instances(Context::object()).at(0).id(),
            std::string("flow_activity-") + kSha1CountryFr);
}

// ---------------------------------------------------------------------------
// Activity inputs.

// A task reading `keys` (all Json parameters, so nulls are accepted).
Task Reading5(std::string a, std::string b, std::string c, std::string d, std::string e) {
  return Task([](ActivityExecution&, Json, Json, Json, Json, Json) {}).Fill(a, b, c, d, e);
}

TEST(InputTest, KeepsExactlyTheRequiredKeysAndTheExecution) {
  Flow flow("dom", "flow");
  auto& activity =
      flow.Activity("activity").Run(Sync(Task([](ActivityExecution&, Json) {}).Fill("context")));
  const auto instance =
      activity.Instances(Context{{"context", "yes"}, {"unused", "no"}, {"somemore", "values"}})
          .at(0);
  EXPECT_EQ(instance.Input("dom", "wf-1", "run-1"), (Context{{"context", "yes"},
                                                             {"execution.domain", "dom"},
                                                             {"execution.workflow_id", "wf-1"},
                                                             {"execution.run_id", "run-1"}}));
}

TEST(InputTest, ZeroAndEmptyValuesSurviveNullIsDropped) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity")
                       .Run(Sync(Reading5("zero", "empty_list", "empty_dict", "none", "missing")));
  const Context context = {{"zero", 0},
                           {"empty_list", Json::array()},
                           {"empty_dict", Json::object()},
                           {"none", nullptr},
                           {"unused", 1}};
  EXPECT_EQ(activity.Instances(context).at(0).Input("dom", "wf", "run"),
            (Context{{"zero", 0},
                     {"empty_list", Json::array()},
                     {"empty_dict", Json::object()},
                     {"execution.domain", "dom"},
                     {"execution.workflow_id", "wf"},
                     {"execution.run_id", "run"}}));
}

TEST(InputTest, RequiredKeysMayComeFromTheLocalContext) {
  Flow flow("dom", "flow");
  auto& activity =
      flow.Activity("activity")
          .Generator(Values("generator.id", 2))
          .Run(Sync(Task([](ActivityExecution&, int, Json) {}).Fill("generator.id", "global"),
                    Task([](ActivityExecution&, Json) {}).Fill("later")));
  const auto instances = activity.Instances(Context{{"global", "g"}, {"other", 1}});
  ASSERT_EQ(instances.size(), 2u);
  EXPECT_EQ(instances[1].Input("d", "w", "r"), (Context{{"generator.id", 1},
                                                        {"global", "g"},
                                                        {"execution.domain", "d"},
                                                        {"execution.workflow_id", "w"},
                                                        {"execution.run_id", "r"}}));
}

TEST(InputTest, WholeContextWhenATaskReadsTheWholeContext) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity")
                       .Generator(Values("local", 1))
                       .Run(Sync(Task([](ActivityExecution&, Json) {}).Fill("a"),
                                 [](ActivityExecution&, const Context&) {}));
  const Context context = {{"a", 1}, {"b", nullptr}, {"c", "x"}};
  EXPECT_EQ(activity.Instances(context).at(0).Input("dom", "wf", "run"),
            (Context{{"a", 1}, {"b", nullptr}, {"c", "x"}, {"local", 0}}));
}

TEST(InputTest, ReadsDeclaresTheKeysOfAWholeContextTask) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity").Run(Sync(Task([](ActivityExecution&, const Context&) {
                                                      }).Reads({"a", "c"})));
  EXPECT_EQ(activity.Instances(Context{{"a", 1}, {"b", 2}, {"c", 3}}).at(0).Input("d", "w", "r"),
            (Context{{"a", 1},
                     {"c", 3},
                     {"execution.domain", "d"},
                     {"execution.workflow_id", "w"},
                     {"execution.run_id", "r"}}));
}

TEST(InputTest, StaticParametersAreNeverSent) {
  Flow flow("dom", "flow");
  std::string received;
  auto& activity =
      flow.Activity("activity")
          .Run(Sync(Task([&](ActivityExecution&, std::string user, std::string password) {
                      received = user + "/" + password;
                    }).Fill("user", Static("s3cr3t-value"))));
  const Context context = {{"user", "bob"}, {"other", 1}};
  const auto instance = activity.Instances(context).at(0);
  const Context input = instance.Input("dom", "wf", "run");
  EXPECT_EQ(input, (Context{{"user", "bob"},
                            {"execution.domain", "dom"},
                            {"execution.workflow_id", "wf"},
                            {"execution.run_id", "run"}}));
  EXPECT_EQ(input.dump().find("s3cr3t-value"), std::string::npos);

  // The task still receives the constant when it runs.
  ActivityExecution execution(ExecutionInfo{});
  activity.runner().Execute(execution, input);
  EXPECT_EQ(received, "bob/s3cr3t-value");
}

TEST(InputTest, EmptyRunnerSendsOnlyTheExecution) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity");
  EXPECT_EQ(
      activity.Instances(Context{{"a", 1}}).at(0).Input("d", "w", "r"),
      (Context{
          {"execution.domain", "d"}, {"execution.workflow_id", "w"}, {"execution.run_id", "r"}}));
}

TEST(InputTest, ATaskWithNoParametersReadsNothing) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("activity").Run(
      Sync(Task([](ActivityExecution&) -> Context { return {{"ran", true}}; })));
  EXPECT_EQ(
      activity.Instances(Context{{"a", 1}}).at(0).Input("d", "w", "r"),
      (Context{
          {"execution.domain", "d"}, {"execution.workflow_id", "w"}, {"execution.run_id", "r"}}));
  ActivityExecution execution(ExecutionInfo{});
  EXPECT_EQ(activity.runner().Execute(execution, Context::object()), (Context{{"ran", true}}));
}

TEST(InputTest, ExternalActivitiesGetTheWholeContext) {
  Flow flow("dom", "flow");
  auto& activity = flow.Activity("external").External(3600, 60);
  const Context context = {{"a", 1}, {"b", {{"nested", true}}}};
  EXPECT_EQ(activity.Instances(context).at(0).Input("d", "w", "r"), context);
}

// ---------------------------------------------------------------------------
// Runner timeouts.

TEST(RunnerTimeoutTest, EmptyRunner) {
  EXPECT_EQ(Sync().Timeout(Context::object()), 0);
  EXPECT_EQ(Sync().Heartbeat(Context::object()), 0);
  EXPECT_EQ(Runner().Timeout(Context::object()), 0);
  EXPECT_EQ(Async().Heartbeat(Context::object()), 0);
}

TEST(RunnerTimeoutTest, OneUndecoratedTask) {
  EXPECT_EQ(Sync(Noop()).Timeout(Context::object()), 600);
  EXPECT_EQ(Sync(Noop()).Heartbeat(Context::object()), 600);
}

TEST(RunnerTimeoutTest, TimeoutsAddUp) {
  EXPECT_EQ(Sync(NoopWithTimeout(10), Noop()).Timeout(Context::object()), 610);
  // Pessimistic for Async too: one worker may run them all.
  EXPECT_EQ(Async(NoopWithTimeout(10), Noop()).Timeout(Context::object()), 610);
}

TEST(RunnerTimeoutTest, HeartbeatIsTheLargest) {
  const Runner runner =
      Sync(NoopWithTimeout(10, 5), NoopWithTimeout(10, 3), NoopWithTimeout(5000, 4498), Noop());
  EXPECT_EQ(runner.Heartbeat(Context::object()), 4498);
  EXPECT_EQ(runner.Timeout(Context::object()), 10 + 10 + 5000 + 600);
}

TEST(RunnerTimeoutTest, HeartbeatDefaultsToTheTimeout) {
  Task task = Noop().Timeout(42);
  EXPECT_EQ(task.timeout(), 42);
  EXPECT_EQ(task.heartbeat(), 42);
  EXPECT_EQ(Sync(task).Heartbeat(Context::object()), 42);
  EXPECT_EQ(Noop().timeout(), std::nullopt);
  EXPECT_THROW(Noop().Timeout(-1), std::invalid_argument);
}

TEST(RunnerTimeoutTest, External) {
  const Runner runner = External(300);
  EXPECT_TRUE(runner.external());
  EXPECT_EQ(runner.Timeout(Context::object()), 300);
  EXPECT_EQ(runner.Heartbeat(Context::object()), 300);
  EXPECT_EQ(External(300, 30).Heartbeat(Context::object()), 30);
  EXPECT_EQ(runner.Requirements(Context::object()), std::nullopt);
  EXPECT_THROW(External(0), std::invalid_argument);
  EXPECT_THROW(External(10, 0), std::invalid_argument);

  ActivityExecution execution(ExecutionInfo{});
  EXPECT_THROW(runner.Execute(execution, Context::object()), std::logic_error);

  Flow flow("dom", "flow");
  auto& activity = flow.Activity("external").External(3600, 60).ScheduleToStart(100);
  EXPECT_TRUE(activity.external());
  const auto instance = activity.Instances(Context::object()).at(0);
  EXPECT_EQ(instance.Timeout(), 3600);
  EXPECT_EQ(instance.Heartbeat(), 60);
  EXPECT_EQ(instance.ScheduleToStart(), 100);
  EXPECT_EQ(instance.ScheduleToClose(), 3700);
}

// ---------------------------------------------------------------------------
// Runners executing tasks.

// Records heartbeats and task runs in order.
struct Recorder {
  std::mutex mu;
  std::vector<std::string> events;
  void Add(std::string e) {
    std::lock_guard lock(mu);
    events.push_back(std::move(e));
  }
};

ActivityExecution::HeartbeatFn RecordHeartbeats(Recorder& recorder) {
  return [&recorder](std::string_view) {
    recorder.Add("heartbeat");
    return false;
  };
}

TEST(SyncTest, EachTaskSeesEarlierResultsHeartbeatBeforeEach) {
  Recorder recorder;
  ActivityExecution execution(ExecutionInfo{"d", "w", "r", "a-1", "flow_a"},
                              RecordHeartbeats(recorder));
  const Runner runner = Sync(
      [&](ActivityExecution&, const Context& c) {
        recorder.Add("first");
        EXPECT_EQ(c, (Context{{"start", 1}}));
        return Context{{"first", 1}};
      },
      Task([&](ActivityExecution&, int start, int first) {
        recorder.Add("second");
        return Context{{"second", start + first}};
      }).Fill("start", "first"),
      [&](ActivityExecution&, const Context& c) {
        recorder.Add("third");
        EXPECT_EQ(c, (Context{{"start", 1}, {"first", 1}, {"second", 2}}));
        return Context{{"first", "overridden"}};
      });
  const Context result = runner.Execute(execution, Context{{"start", 1}});
  EXPECT_EQ(result, (Context{{"first", "overridden"}, {"second", 2}}));
  EXPECT_THAT(recorder.events,
              ElementsAre("heartbeat", "first", "heartbeat", "second", "heartbeat", "third"));
}

TEST(SyncTest, AFailingTaskStopsTheRunner) {
  bool ran_after = false;
  ActivityExecution execution(ExecutionInfo{});
  const Runner runner =
      Sync([](ActivityExecution&,
              const Context&) -> Context { throw std::runtime_error("first fails"); },
           [&](ActivityExecution&, const Context&) { ran_after = true; });
  try {
    runner.Execute(execution, Context::object());
    FAIL() << "expected the task's exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "first fails");
  }
  EXPECT_FALSE(ran_after);
}

TEST(AsyncTest, FiveTasksOnTwoWorkersMergeAllResults) {
  Recorder recorder;
  ActivityExecution execution(ExecutionInfo{}, RecordHeartbeats(recorder));
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::vector<TaskItem> tasks;
  auto make = [&](int i) {
    return Task([&, i](ActivityExecution&, const Context& c) {
      const int now = ++running;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      --running;
      EXPECT_EQ(c, (Context{{"input", true}})) << "every task sees the original context";
      return Context{{"task_" + std::to_string(i), i}};
    });
  };
  Runner runner = Async(make(1), make(2), make(3), make(4), make(5));
  runner.MaxWorkers(2);
  EXPECT_EQ(runner.max_workers(), 2);
  const Context result = runner.Execute(execution, Context{{"input", true}});
  EXPECT_EQ(result,
            (Context{{"task_1", 1}, {"task_2", 2}, {"task_3", 3}, {"task_4", 4}, {"task_5", 5}}));
  EXPECT_LE(most.load(), 2);
  EXPECT_GE(most.load(), 1);
  EXPECT_EQ(recorder.events.size(), 5u) << "a heartbeat after each task";
}

TEST(AsyncTest, FirstFailureInTaskOrderIsRethrownAfterAllFinish) {
  std::atomic<int> finished{0};
  ActivityExecution execution(ExecutionInfo{});
  const Runner runner = Async([&](ActivityExecution&, const Context&) { ++finished; },
                              [&](ActivityExecution&, const Context&) -> Context {
                                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                                ++finished;
                                throw std::runtime_error("second");
                              },
                              [&](ActivityExecution&, const Context&) -> Context {
                                ++finished;
                                throw std::runtime_error("third");
                              });
  try {
    runner.Execute(execution, Context::object());
    FAIL() << "expected a failure";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "second");
  }
  EXPECT_EQ(finished.load(), 3);
}

TEST(AsyncTest, MaxWorkersIsValidated) {
  EXPECT_THROW(Sync(Noop()).MaxWorkers(2), std::logic_error);
  Runner runner = Async(Noop());
  EXPECT_EQ(runner.max_workers(), 3);
  EXPECT_THROW(runner.MaxWorkers(0), std::invalid_argument);
}

TEST(TaskListTest, FlattenedWithTheContext) {
  std::vector<std::string> calls;
  auto create_user = Task([&](ActivityExecution&, std::string name) {
                       calls.push_back("create " + name);
                       return Context{{"user.id", 7}};
                     }).Fill("name");
  auto add_card = Task([&](ActivityExecution&, int user, std::string card) {
                    calls.push_back("card " + std::to_string(user) + " " + card);
                  })
                      .Fill("user.id", "card")
                      .Timeout(5);
  auto send_email = Task([&](ActivityExecution&, int user) {
                      calls.push_back("email " + std::to_string(user));
                      return Context{{"email.sent", true}};
                    }).Fill("user.id");
  const Runner runner = Sync(TaskList([=](const Context& context) {
                               std::vector<Task> tasks{create_user};
                               if (context.contains("card")) tasks.push_back(add_card);
                               return tasks;
                             }),
                             send_email);

  const Context with_card = {{"name", "ann"}, {"card", "4242"}};
  const Context without_card = {{"name", "bob"}};
  EXPECT_EQ(runner.Tasks(with_card).size(), 3u);
  EXPECT_EQ(runner.Tasks(without_card).size(), 2u);
  EXPECT_EQ(runner.Timeout(with_card), 600 + 5 + 600);
  EXPECT_EQ(runner.Timeout(without_card), 1200);
  EXPECT_EQ(runner.Requirements(with_card), (std::set<std::string>{"name", "user.id", "card"}));

  ActivityExecution execution(ExecutionInfo{});
  EXPECT_EQ(runner.Execute(execution, with_card), (Context{{"user.id", 7}, {"email.sent", true}}));
  EXPECT_THAT(calls, ElementsAre("create ann", "card 7 4242", "email 7"));
  calls.clear();
  runner.Execute(execution, without_card);
  EXPECT_THAT(calls, ElementsAre("create bob", "email 7"));
}

// ---------------------------------------------------------------------------
// Tasks.

TEST(TaskTest, NamespacePrefixesEveryResultKey) {
  Task task = Task([](ActivityExecution&, const Context&) {
                return Context{{"a", 1}, {"b", {{"c", 2}}}};
              }).Namespace("ns");
  ActivityExecution execution(ExecutionInfo{});
  EXPECT_EQ(task(execution, Context::object()), (Context{{"ns.a", 1}, {"ns.b", {{"c", 2}}}}));
}

TEST(TaskTest, VoidAndNullResultsAreEmpty) {
  ActivityExecution execution(ExecutionInfo{});
  EXPECT_EQ(Noop()(execution, Context{{"a", 1}}), Context::object());
  Task null_result([](ActivityExecution&, const Context&) { return Json(); });
  EXPECT_EQ(null_result(execution, Context::object()), Context::object());
}

TEST(TaskTest, ANonObjectResultIsATaskError) {
  ActivityExecution execution(ExecutionInfo{});
  Task task([](ActivityExecution&, const Context&) { return Json::array({1, 2}); });
  try {
    task(execution, Context::object());
    FAIL() << "expected TaskError";
  } catch (const TaskError& e) {
    EXPECT_THAT(e.what(), HasSubstr("array"));
  }
}

TEST(TaskTest, ReferenceParametersReceiveTheirValues) {
  // A `const std::string&` parameter once bound to a destroyed temporary
  // (clang warned; ASan would report the read).
  ActivityExecution execution(ExecutionInfo{});
  Task task = Task([](ActivityExecution&, const std::string& name, const Json& extra) {
                return Context{{"greeting", "hello " + name + extra.dump()}};
              }).Fill("name", "extra");
  EXPECT_EQ(task(execution, Context{{"name", std::string(100, 'x')}, {"extra", {1, 2}}}),
            (Context{{"greeting", "hello " + std::string(100, 'x') + "[1,2]"}}));
}

// A Fill that does not match is the task's misuse (reported by
// Flow::Validate), and running the task fails with it.
TEST(TaskTest, FillCountMismatchIsAMisuse) {
  auto fn = [](ActivityExecution&, int, int) { return Context{{"ran", true}}; };
  EXPECT_EQ(Task(fn).Fill("a").misuse(),
            "Fill: the task takes 2 parameters after ActivityExecution&, 1 given");
  EXPECT_EQ(Task(fn).Fill("a", "b", "c").misuse(),
            "Fill: the task takes 2 parameters after ActivityExecution&, 3 given");
  EXPECT_EQ(Task(fn).Fill("a", "b").misuse(), "");
  // A whole-context task has nothing to fill.
  EXPECT_THAT(Noop().Fill("a").misuse(), HasSubstr("reads the whole context"));
  ActivityExecution execution(ExecutionInfo{});
  Task wrong = Task(fn).Fill("a");
  EXPECT_THROW(wrong(execution, Context{{"a", 1}}), TaskError);
  // A later Fill that matches clears it.
  wrong.Fill("a", "b");
  EXPECT_EQ(wrong.misuse(), "");
  EXPECT_EQ(wrong(execution, Context{{"a", 1}, {"b", 2}}), (Context{{"ran", true}}));
}

Context NoexceptTask(ActivityExecution&, int id) noexcept { return {{"id", id}}; }

TEST(TaskTest, NoexceptFunctionsAndLambdas) {
  ActivityExecution execution(ExecutionInfo{});
  Task function = Task(NoexceptTask).Fill("id");
  EXPECT_EQ(function(execution, Context{{"id", 3}}), (Context{{"id", 3}}));
  Task lambda([](ActivityExecution&, const Context&) noexcept { return Context{{"ok", 1}}; });
  EXPECT_EQ(lambda(execution, Context::object()), (Context{{"ok", 1}}));
}

// Task(fn, keys...): Fill with the count checked at compile time
// (tests/compile_fail has the programs that must not compile).
TEST(TaskTest, KeysGivenToTheConstructor) {
  Task task([](ActivityExecution&, int a, const std::string& b) {
    return Context{{"sum", std::to_string(a) + b}};
  }, "a", Static("!"));
  EXPECT_EQ(task.misuse(), "");
  EXPECT_EQ(task.Requirements(), (std::vector<std::string>{"a"}));
  ActivityExecution execution(ExecutionInfo{});
  EXPECT_EQ(task(execution, Context{{"a", 4}}), (Context{{"sum", "4!"}}));
}

TEST(TaskTest, RequirementsAreTheFilledKeys) {
  Task filled = Task([](ActivityExecution&, int, int, int) {}).Fill("a", Static(1), "b");
  EXPECT_EQ(filled.Requirements(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Noop().Requirements(), std::nullopt);
  EXPECT_EQ(Noop().Reads({"x"}).Requirements(), (std::vector<std::string>{"x"}));
}

TEST(TaskTest, MissingKeyForAnIntParameterNamesTheKey) {
  Task task = Task([](ActivityExecution&, int user_id) {
                return Context{{"user", user_id}};
              }).Fill("user.id");
  ActivityExecution execution(ExecutionInfo{});
  try {
    task(execution, Context{{"other", 1}});
    FAIL() << "expected TaskError";
  } catch (const TaskError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'user.id'"));
    EXPECT_THAT(e.what(), HasSubstr("missing"));
  }
  // A null value is missing too.
  EXPECT_THROW(task(execution, Context{{"user.id", nullptr}}), TaskError);
  EXPECT_EQ(task(execution, Context{{"user.id", 3}}), (Context{{"user", 3}}));
}

TEST(TaskTest, WrongTypeNamesTheKey) {
  Task task = Task([](ActivityExecution&, std::string, int) {}).Fill("name", "count");
  ActivityExecution execution(ExecutionInfo{});
  try {
    task(execution, Context{{"name", "n"}, {"count", "three"}});
    FAIL() << "expected TaskError";
  } catch (const TaskError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'count'"));
    EXPECT_THAT(e.what(), HasSubstr("wrong type"));
  }
}

TEST(TaskTest, OptionalAndJsonParametersGetNull) {
  std::optional<int> seen_optional = 99;
  Json seen_json = "unset";
  Task task = Task([&](ActivityExecution&, std::optional<int> maybe, Json any) {
                seen_optional = maybe;
                seen_json = any;
              }).Fill("maybe", "any");
  ActivityExecution execution(ExecutionInfo{});
  task(execution, Context::object());
  EXPECT_EQ(seen_optional, std::nullopt);
  EXPECT_TRUE(seen_json.is_null());

  task(execution, Context{{"maybe", 4}, {"any", {1, 2}}});
  EXPECT_EQ(seen_optional, 4);
  EXPECT_EQ(seen_json, Json::array({1, 2}));
}

TEST(TaskTest, ReceivesTheActivityExecution) {
  std::string seen;
  Task task = Task([&](ActivityExecution& activity, const Context&) {
    seen = activity.info().activity_id + " " + activity.logger()->name();
  });
  ActivityExecution execution(ExecutionInfo{"dom", "wf", "run", "flow_a-1", "flow_a"});
  task(execution, Context::object());
  EXPECT_EQ(seen, "flow_a-1 garcon.dom.wf.run");
}

TEST(ActivityExecutionTest, LoggerNames) {
  EXPECT_EQ(LoggerName("dom", "wf", "run"), "garcon.dom.wf.run");
  EXPECT_EQ(LoggerName("", "", ""), "garcon");
  ActivityExecution local(ExecutionInfo{});
  EXPECT_EQ(local.logger()->name(), "garcon");
}

TEST(ActivityExecutionTest, HeartbeatReportsCancellationAndNeverThrows) {
  int calls = 0;
  ActivityExecution execution(ExecutionInfo{"d", "w", "r", "a", "n"},
                              [&](std::string_view details) -> bool {
                                ++calls;
                                if (details == "boom") throw std::runtime_error("network down");
                                return details == "cancel";
                              });
  EXPECT_FALSE(execution.Heartbeat());
  EXPECT_FALSE(execution.Heartbeat("boom"));
  EXPECT_FALSE(execution.cancel_requested());
  EXPECT_TRUE(execution.Heartbeat("cancel"));
  EXPECT_TRUE(execution.cancel_requested());
  EXPECT_TRUE(execution.Heartbeat()) << "a cancellation request sticks";
  EXPECT_EQ(calls, 4);

  ActivityExecution local(ExecutionInfo{});
  EXPECT_FALSE(local.Heartbeat());
}

}  // namespace
}  // namespace garcon
