// A test fixture around an Engine on a FakeClock, with helpers for the
// common steps of a workflow (register, start, poll, respond) and for
// reading histories.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "garcon/clock.h"
#include "garcon/engine.h"
#include "garcon/store.h"

namespace garcon::engine::testing {

class EngineFixture : public ::testing::Test {
 protected:
  static constexpr const char* kDomain = "d";
  static constexpr const char* kDecisionList = "decisions";
  static constexpr const char* kActivityList = "activities";

  // GARCON_TEST_STORE picks the store every test runs on, unchanged:
  // "sqlite" (a real file), "memory" (the memory store), or unset (none).
  void SetUp() override {
    const char* kind = std::getenv("GARCON_TEST_STORE");
    store_kind_ = kind ? kind : "";
    if (store_kind_ == "sqlite") {
      std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
      for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      db_path_ = (std::filesystem::temp_directory_path() /
                  ("garcon-engine-" + name + "-" + std::to_string(getpid()) + ".db"))
                     .string();
      RemoveDb();
    }
    OpenStore();
    MakeEngine(/*timer_thread=*/false);
  }

  void TearDown() override {
    engine_.reset();
    store_.reset();
    RemoveDb();
  }

  void MakeEngine(bool timer_thread) {
    engine_.reset();
    EngineOptions options;
    options.clock = clock_;
    options.timer_thread = timer_thread;
    options.store = store_;
    engine_ = std::make_unique<Engine>(std::move(options));
  }

  // Stops the engine and starts a new one on the same store (a restart).
  // Without a store, there is nothing to reopen: the test is skipped.
  bool Reopen() {
    if (!store_) return false;
    engine_.reset();
    if (store_kind_ == "sqlite") {
      store_.reset();
      OpenStore();
    }
    MakeEngine(/*timer_thread=*/false);
    return true;
  }

  bool has_store() const { return store_ != nullptr; }

  Result<Json> Call(const std::string& op, const Json& request) {
    return engine_->Call(op, request);
  }

  // Calls and expects success.
  Json Ok(const std::string& op, const Json& request) {
    Result<Json> r = engine_->Call(op, request);
    EXPECT_TRUE(r.ok()) << op << ": " << r.status().ToString();
    return r.ok() ? *r : Json();
  }

  // A call that must answer without waiting (a poll with a task queued, or
  // any other call). A poll left waiting is cancelled and the test fails.
  // Where an asynchronous call's answer lands: written on whichever thread
  // answers (the journal's, the timer's), read on the test's.
  class Slot {
   public:
    void Set(Result<Json> r) {
      std::lock_guard<std::mutex> lock(mu_);
      value_.emplace(std::move(r));
    }
    bool has_value() const {
      std::lock_guard<std::mutex> lock(mu_);
      return value_.has_value();
    }
    // Only once has_value(): the answer is never written again.
    const Result<Json>& get() const {
      std::lock_guard<std::mutex> lock(mu_);
      return *value_;
    }

   private:
    mutable std::mutex mu_;
    std::optional<Result<Json>> value_;
  };

  Json Now(const std::string& op, const Json& request) {
    auto out = std::make_shared<Slot>();
    const auto id = engine_->CallAsync(op, request, [out](Result<Json> r) { out->Set(std::move(r)); });
    // On a durable store an answer waits for its commit: let it land.
    if (!out->has_value()) engine_->Flush();
    if (!out->has_value()) {
      engine_->Cancel(id);
      ADD_FAILURE() << op << " did not answer at once";
      return Json();
    }
    const Result<Json>& answer = out->get();
    EXPECT_TRUE(answer.ok()) << op << ": " << answer.status().ToString();
    return answer.ok() ? *answer : Json();
  }

  // A held poll whose answer lands in the returned slot.
  struct Held {
    Engine::CallId id = 0;
    std::shared_ptr<Slot> answer;
    bool answered() const { return answer->has_value(); }
    const Json& json() const { return answer->get().value(); }
  };
  Held Hold(const std::string& op, const Json& request) {
    Held held;
    held.answer = std::make_shared<Slot>();
    auto slot = held.answer;
    held.id = engine_->CallAsync(op, request, [slot](Result<Json> r) { slot->Set(std::move(r)); });
    return held;
  }

  void RegisterDomain(const std::string& name = kDomain) {
    Ok("RegisterDomain", {{"name", name}, {"workflowExecutionRetentionPeriodInDays", "1"}});
  }

  // Workflow type "wf"/"1" with every default; activity type "act"/"1" with
  // every default (heartbeat NONE).
  void RegisterTypes() {
    RegisterDomain();
    Ok("RegisterWorkflowType", {{"domain", kDomain},
                                {"name", "wf"},
                                {"version", "1"},
                                {"defaultTaskList", {{"name", kDecisionList}}},
                                {"defaultExecutionStartToCloseTimeout", "3600"},
                                {"defaultTaskStartToCloseTimeout", "30"},
                                {"defaultChildPolicy", "TERMINATE"}});
    Ok("RegisterActivityType", {{"domain", kDomain},
                                {"name", "act"},
                                {"version", "1"},
                                {"defaultTaskList", {{"name", kActivityList}}},
                                {"defaultTaskScheduleToStartTimeout", "60"},
                                {"defaultTaskScheduleToCloseTimeout", "600"},
                                {"defaultTaskStartToCloseTimeout", "300"},
                                {"defaultTaskHeartbeatTimeout", "NONE"}});
  }

  std::string Start(const std::string& workflow_id, Json extra = Json::object()) {
    Json request{{"domain", kDomain},
                 {"workflowId", workflow_id},
                 {"workflowType", {{"name", "wf"}, {"version", "1"}}}};
    for (auto& [k, v] : extra.items()) request[k] = v;
    return Ok("StartWorkflowExecution", request).value("runId", "");
  }

  Json PollDecision(Json extra = Json::object()) {
    Json request{
        {"domain", kDomain}, {"taskList", {{"name", kDecisionList}}}, {"identity", "decider"}};
    for (auto& [k, v] : extra.items()) request[k] = v;
    return Now("PollForDecisionTask", request);
  }

  Json PollActivity(const std::string& task_list = kActivityList) {
    return Now("PollForActivityTask",
               {{"domain", kDomain}, {"taskList", {{"name", task_list}}}, {"identity", "worker"}});
  }

  // `decisions`: an array of decisions, or a single decision.
  Result<Json> Decide(const Json& task, const Json& decisions, Json extra = Json::object()) {
    Json list = decisions;
    if (list.is_object()) list = Json::array({decisions});
    Json request{{"taskToken", task.value("taskToken", "")}, {"decisions", list}};
    for (auto& [k, v] : extra.items()) request[k] = v;
    return Call("RespondDecisionTaskCompleted", request);
  }

  static Json ScheduleActivity(const std::string& activity_id, Json extra = Json::object()) {
    Json attributes{{"activityType", {{"name", "act"}, {"version", "1"}}},
                    {"activityId", activity_id}};
    for (auto& [k, v] : extra.items()) attributes[k] = v;
    return Json{{"decisionType", "ScheduleActivityTask"},
                {"scheduleActivityTaskDecisionAttributes", attributes}};
  }

  static Json CompleteWorkflow(const std::string& result = "done") {
    return Json{{"decisionType", "CompleteWorkflowExecution"},
                {"completeWorkflowExecutionDecisionAttributes", {{"result", result}}}};
  }

  // The whole history, following pages.
  Json History(const std::string& workflow_id, const std::string& run_id) {
    Json request{{"domain", kDomain},
                 {"execution", {{"workflowId", workflow_id}, {"runId", run_id}}}};
    Json events = Json::array();
    for (;;) {
      const Json page = Ok("GetWorkflowExecutionHistory", request);
      for (const Json& event : page.value("events", Json::array())) events.push_back(event);
      if (!page.contains("nextPageToken")) return events;
      request["nextPageToken"] = page["nextPageToken"];
    }
  }

  std::vector<std::string> EventTypes(const std::string& workflow_id, const std::string& run_id) {
    std::vector<std::string> types;
    for (const Json& event : History(workflow_id, run_id)) types.push_back(event["eventType"]);
    return types;
  }

  static std::vector<std::string> TypesOf(const Json& events) {
    std::vector<std::string> types;
    for (const Json& event : events) types.push_back(event["eventType"]);
    return types;
  }

  // The attributes of the event with `event_id`.
  Json Attributes(const std::string& workflow_id, const std::string& run_id, int event_id) {
    const Json events = History(workflow_id, run_id);
    const Json& event = events.at(static_cast<std::size_t>(event_id - 1));
    std::string type = event["eventType"];
    type[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(type[0])));
    return event.at(type + "EventAttributes");
  }

  Json Describe(const std::string& workflow_id, const std::string& run_id) {
    return Ok(
        "DescribeWorkflowExecution",
        {{"domain", kDomain}, {"execution", {{"workflowId", workflow_id}, {"runId", run_id}}}});
  }

  double T0() const { return 1767225600.0; }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<store::Store> store_;

 private:
  void OpenStore() {
    if (store_kind_ == "sqlite") {
      auto opened = store::OpenSqliteStore(db_path_);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      store_ = *opened;
    } else if (store_kind_ == "memory") {
      store_ = store::OpenMemoryStore();
    }
  }
  void RemoveDb() {
    if (db_path_.empty()) return;
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db_path_ + suffix).c_str());
  }

  std::string store_kind_;
  std::string db_path_;
};

}  // namespace garcon::engine::testing
