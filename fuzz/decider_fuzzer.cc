// History pages given to the flow decider (Decider::PollOnce against a
// scripted service, HistoryState and Decide).
//
// Input (FuzzedDataProvider); a first integral picks the mode:
//   structured (0, 1): a history made of SWF-shaped events (types, ids and
//     attributes chosen by the bytes, attribute types as SWF sends them,
//     strings valid UTF-8): activity ids and scheduled event ids are drawn
//     from what the flow decided so far, so the flow advances. It is fed as
//     two decision tasks of one run (a prefix, then all), in pages of a
//     fuzzed size, newest first, as SWF answers reverseOrder polls. The
//     decisions answered must pass the SWF model's validation of
//     RespondDecisionTaskCompleted and serialize; an exception escaping
//     PollOnce is a finding (abort).
//   raw (2): the rest is JSON: an array of events, or a whole decision task
//     page. JSON type errors (nlohmann::json::exception) from events SWF
//     would never send are tolerated unless GARCON_FUZZ_STRICT is set.
// Flows: 0 a four-activity flow with a generator, retries, an External
// activity and a task declaring the keys it reads; 1 a custom decider.
#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/limits.h"
#include "fuzz_common.h"
#include "garcon/decider.h"
#include "garcon/flow.h"
#include "garcon/runner.h"
#include "protocol/model.h"

namespace {

using garcon::Context;
using garcon::Json;
using garcon::fuzz::Die;

bool Verbose() {
  static const bool verbose = std::getenv("GARCON_FUZZ_VERBOSE") != nullptr;
  return verbose;
}

bool Strict() {
  static const bool strict = std::getenv("GARCON_FUZZ_STRICT") != nullptr;
  return strict;
}

garcon::Task WholeContext() {
  return garcon::Task([](garcon::ActivityExecution&, const Context&) {});
}

struct Flows {
  garcon::Flow generated{"dev", "flow"};
  garcon::Flow custom{"dev", "custom"};

  Flows() {
    auto& a1 = generated.Activity("a1").Run(garcon::Sync(WholeContext()));
    auto& a2 = generated.Activity("a2")
                   .Requires({&a1})
                   .Retry(2)
                   .Generator([](const Context& c) {
                     std::vector<Context> out;
                     // Throws on a non-number (the run fails); a float is
                     // clamped first (nlohmann's double-to-int is unchecked).
                     const Json n_json = c.contains("n") ? c["n"] : Json(2);
                     const int n = n_json.is_number_float()
                                       ? static_cast<int>(std::clamp(n_json.get<double>(), -1.0, 40.0))
                                       : n_json.get<int>();
                     for (int i = 0; i < n && i < 40; ++i) {
                       out.push_back({{"i", i}, {"tag", c.contains("tag") ? c["tag"] : Json()}});
                     }
                     return out;
                   })
                   .Run(garcon::Sync(WholeContext()));
    auto& a3 = generated.Activity("a3").Requires({&a1}).External(10, 5);
    generated.Activity("a4")
        .Requires({&a2, &a3})
        .Retry(1)
        .Run(garcon::Sync(garcon::Task([](garcon::ActivityExecution&, std::string user,
                                          const Json& tag) {
                            return Context{{"seen", user + tag.dump()}};
                          }).Fill("user", "tag")));

    auto& c1 = custom.Activity("one").Run(garcon::Sync(WholeContext()));
    auto& c2 = custom.Activity("two").Retry(1).Run(garcon::Sync(WholeContext()));
    custom.Decider([&c1, &c2](garcon::Schedule& schedule, const Context& input) {
      auto first = schedule("first", c1);
      auto second = schedule("second", c2, {first}, {{"from", input.value("user", Json())}});
      if (second.result().value("again", false)) schedule("third", c1, {second});
    });
  }
};

const char* const kEventTypes[] = {
    "WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted",
    "DecisionTaskCompleted", "DecisionTaskTimedOut", "ActivityTaskScheduled",
    "ActivityTaskStarted", "ActivityTaskCompleted", "ActivityTaskFailed", "ActivityTaskTimedOut",
    "ActivityTaskCanceled", "ActivityTaskCancelRequested", "ScheduleActivityTaskFailed",
    "WorkflowExecutionSignaled", "MarkerRecorded", "TimerStarted", "TimerFired", "TimerCanceled",
    "WorkflowExecutionCancelRequested", "WorkflowExecutionCompleted", "WorkflowExecutionFailed",
    "WorkflowExecutionTimedOut", "WorkflowExecutionCanceled", "WorkflowExecutionTerminated",
    "WorkflowExecutionContinuedAsNew", "CompleteWorkflowExecutionFailed",
    "FailWorkflowExecutionFailed", "RequestCancelActivityTaskFailed", "StartTimerFailed",
    "LambdaFunctionScheduled"};


class HistoryMaker {
 public:
  HistoryMaker(FuzzedDataProvider& fdp, const garcon::Flow& flow) : fdp_(fdp), flow_(flow) {}

  // SWF carries valid UTF-8 only.
  std::string Text(std::size_t max) {
    return garcon::limits::ValidUtf8(fdp_.ConsumeRandomLengthString(max));
  }

  Json Value(int depth = 0) {
    switch (fdp_.ConsumeIntegralInRange(0, depth > 1 ? 4 : 7)) {
      case 0: return fdp_.ConsumeIntegralInRange<std::int64_t>(-3, 50);
      case 1: return Text(24);
      case 2: return fdp_.ConsumeBool();
      case 3: return nullptr;
      case 4: return fdp_.ConsumeFloatingPoint<double>();
      case 5: return std::string(fdp_.ConsumeIntegralInRange(0, 40) * 1000, 'x');
      case 6: {
        Json a = Json::array();
        for (int i = fdp_.ConsumeIntegralInRange(0, 3); i > 0; --i) a.push_back(Value(depth + 1));
        return a;
      }
      default: return Object(depth + 1);
    }
  }

  Json Object(int depth = 0) {
    static const char* const kKeys[] = {"n", "tag", "user", "again", "i", "execution.run_id"};
    Json o = Json::object();
    for (int i = fdp_.ConsumeIntegralInRange(0, 4); i > 0; --i) {
      const int k = fdp_.ConsumeIntegralInRange(0, 6);
      o[k < 6 ? std::string(kKeys[k]) : Text(12)] = Value(depth);
    }
    return o;
  }

  // An input / result as SWF carries it: a string, usually a JSON object.
  std::optional<std::string> Data() {
    switch (fdp_.ConsumeIntegralInRange(0, 5)) {
      case 0: return std::nullopt;
      case 1: return Text(40);  // not JSON, or not an object
      case 2: return Value().dump();
      default: return Object().dump(-1, ' ', false, Json::error_handler_t::replace);
    }
  }

  // One byte: 255 (or no event scheduled yet) a fuzzed id, else the
  // (byte % n)-th most recent ActivityTaskScheduled event.
  std::int64_t ScheduledId() {
    const auto b = fdp_.ConsumeIntegral<std::uint8_t>();
    if (scheduled_.empty() || b == 255) return fdp_.ConsumeIntegralInRange<std::int64_t>(-1, 200);
    return scheduled_[scheduled_.size() - 1 - b % scheduled_.size()];
  }

  // One byte: 255 (or none known yet) a fuzzed id, else the (byte % n)-th
  // most recently learned activity id.
  std::string ActivityId() {
    const auto b = fdp_.ConsumeIntegral<std::uint8_t>();
    if (ids_.empty() || b == 255) {
      // SWF only sends valid names (1-256 characters, no ':', '/', '|',
      // control characters, not "arn").
      std::string id = Text(40);
      return garcon::protocol::IsValidSwfName(id) ? id : "fuzz-id";
    }
    return ids_[ids_.size() - 1 - b % ids_.size()];
  }

  // What the flow decides after the events so far: the activity ids it
  // schedules join the pool (in decision order, once each).
  void Learn() {
    garcon::HistoryState state;
    for (const Json& e : events_) state.Apply(e);
    for (const Json& d : garcon::Decide(flow_, state, {"dev", "wf-1", "run-1"})) {
      if (d.value("decisionType", "") == "ScheduleActivityTask") {
        std::string id = d["scheduleActivityTaskDecisionAttributes"].value("activityId", "");
        if (std::find(ids_.begin(), ids_.end(), id) == ids_.end()) ids_.push_back(std::move(id));
      }
    }
  }

  std::vector<Json> Make() {
    const int count = fdp_.ConsumeIntegralInRange(0, 60);
    for (int i = 0; i < count && fdp_.remaining_bytes() > 0; ++i) {
      const bool started = i == 0 && fdp_.ConsumeIntegralInRange(0, 7) != 0;
      const std::string type =
          started ? "WorkflowExecutionStarted"
                  : kEventTypes[fdp_.ConsumeIntegralInRange<std::size_t>(
                        0, std::size(kEventTypes) - 1)];
      const std::int64_t id = fdp_.ConsumeIntegralInRange(0, 15) == 0
                                  ? fdp_.ConsumeIntegralInRange<std::int64_t>(-2, 100)
                                  : static_cast<std::int64_t>(events_.size()) + 1;
      Json a = Json::object();
      if (type == "WorkflowExecutionStarted") {
        a = {{"workflowType", {{"name", flow_.name()}, {"version", flow_.version()}}},
             {"taskList", {{"name", flow_.name()}}},
             {"childPolicy", "TERMINATE"}};
        if (auto input = Data()) a["input"] = *input;
      } else if (type == "ActivityTaskScheduled") {
        const std::string activity = ActivityId();
        a = {{"activityId", activity},
             {"activityType", {{"name", activity.substr(0, activity.find('-'))}, {"version", "1.0"}}},
             {"taskList", {{"name", "t"}}},
             {"decisionTaskCompletedEventId", id - 1}};
        scheduled_.push_back(id);
      } else if (type == "ActivityTaskStarted") {
        a = {{"scheduledEventId", ScheduledId()}, {"identity", Text(20)}};
      } else if (type == "ActivityTaskCompleted") {
        a = {{"scheduledEventId", ScheduledId()}, {"startedEventId", id - 1}};
        if (auto result = Data()) a["result"] = *result;
      } else if (type == "ActivityTaskFailed") {
        a = {{"scheduledEventId", ScheduledId()}, {"startedEventId", id - 1}};
        if (fdp_.ConsumeBool()) a["reason"] = Text(256);
        if (fdp_.ConsumeBool()) a["details"] = fdp_.ConsumeBool() ? Text(300) : std::string(32768, 'd');
      } else if (type == "ActivityTaskTimedOut") {
        static const char* const kTimeouts[] = {"START_TO_CLOSE", "SCHEDULE_TO_START",
                                                "SCHEDULE_TO_CLOSE", "HEARTBEAT"};
        a = {{"scheduledEventId", ScheduledId()},
             {"startedEventId", id - 1},
             {"timeoutType", kTimeouts[fdp_.ConsumeIntegralInRange(0, 3)]}};
        if (fdp_.ConsumeBool()) a["details"] = Text(64);
      } else if (type == "ActivityTaskCanceled") {
        a = {{"scheduledEventId", ScheduledId()}, {"startedEventId", id - 1}};
        if (fdp_.ConsumeBool()) a["details"] = Text(64);
      } else if (type == "ScheduleActivityTaskFailed") {
        static const char* const kCauses[] = {"ACTIVITY_TYPE_DOES_NOT_EXIST",
                                              "ACTIVITY_ID_ALREADY_IN_USE",
                                              "OPEN_ACTIVITIES_LIMIT_EXCEEDED",
                                              "OPERATION_NOT_PERMITTED"};
        a = {{"activityId", ActivityId()},
             {"activityType", {{"name", "x"}, {"version", "1.0"}}},
             {"cause", kCauses[fdp_.ConsumeIntegralInRange(0, 3)]},
             {"decisionTaskCompletedEventId", id - 1}};
      } else if (type == "DecisionTaskCompleted") {
        a = {{"scheduledEventId", id - 2}, {"startedEventId", id - 1}};
        if (fdp_.ConsumeBool()) a["executionContext"] = Text(32);
      } else if (type == "WorkflowExecutionSignaled") {
        a = {{"signalName", Text(16)}};
        if (auto input = Data()) a["input"] = *input;
      } else if (type == "WorkflowExecutionFailed") {
        a = {{"decisionTaskCompletedEventId", id - 1}, {"reason", Text(64)}};
      } else if (type == "DecisionTaskScheduled") {
        a = {{"taskList", {{"name", flow_.name()}}}, {"startToCloseTimeout", "60"}};
      } else if (type == "DecisionTaskStarted") {
        a = {{"scheduledEventId", id - 1}, {"identity", "decider"}};
      } else if (type == "TimerStarted" || type == "TimerFired") {
        a = {{"timerId", Text(16)}, {"startToFireTimeout", "5"}, {"startedEventId", id - 1},
             {"decisionTaskCompletedEventId", id - 1}};
      }
      const std::string key = std::string(1, static_cast<char>(type[0] - 'A' + 'a')) +
                              type.substr(1) + "EventAttributes";
      if (Verbose()) std::fprintf(stderr, "  event %d %s id %lld, %zu bytes left\n", i, type.c_str(),
                                  static_cast<long long>(id), fdp_.remaining_bytes());
      events_.push_back({{"eventId", id},
                         {"eventTimestamp", 1767225600.0 + static_cast<double>(i)},
                         {"eventType", type},
                         {key, std::move(a)}});
      if (type == "DecisionTaskStarted" || type == "WorkflowExecutionStarted" ||
          fdp_.ConsumeIntegralInRange(0, 15) == 0) {
        Learn();
      }
    }
    return std::move(events_);
  }

 private:
  FuzzedDataProvider& fdp_;
  const garcon::Flow& flow_;
  std::vector<Json> events_;
  std::vector<std::int64_t> scheduled_;
  std::vector<std::string> ids_;
};

// Answers decision polls from a scripted queue of pages; checks every
// RespondDecisionTaskCompleted.
class ScriptedService : public garcon::swf::Service {
 public:
  explicit ScriptedService(bool check) : check_(check) {}

  garcon::Result<Json> Call(std::string_view operation, const Json& request) override {
    if (operation == "PollForDecisionTask") {
      const std::string token = request.value("nextPageToken", "");
      // A new task: drop the older pages of the last one, never asked for.
      while (token.empty() && !pages_.empty() && pages_.front().contains("pageToken")) {
        pages_.pop_front();
      }
      if (pages_.empty()) return garcon::Status(garcon::Fault::kInternalFailure, "no more pages");
      Json page = std::move(pages_.front());
      pages_.pop_front();
      if (!token.empty() && page.value("pageToken", "") != token) {
        return garcon::Status(garcon::Fault::kValidation, "unexpected nextPageToken");
      }
      page.erase("pageToken");
      return page;
    }
    if (operation == "RespondDecisionTaskCompleted" && Verbose()) {
      std::fprintf(stderr, "decisions: %s\n",
                   request.dump(-1, ' ', false, Json::error_handler_t::replace).substr(0, 600).c_str());
    }
    if (operation == "RespondDecisionTaskCompleted" && check_) {
      garcon::Status valid =
          garcon::protocol::Model::Get().ValidateInput("RespondDecisionTaskCompleted", request);
      if (!valid.ok()) {
        Die("the decider answered decisions SWF refuses: " + valid.ToString() + "\n" +
            request.dump(-1, ' ', false, Json::error_handler_t::replace).substr(0, 2000));
      }
      try {
        (void)request.dump();  // what the HTTP client sends
      } catch (const Json::exception& e) {
        Die(std::string("the decider answered decisions that do not serialize: ") + e.what());
      }
    }
    return Json::object();
  }

  // One decision task for `events` (all of them new to SWF), newest first,
  // in pages of `page_size`.
  void Queue(const std::vector<Json>& events, std::size_t page_size, const std::string& token) {
    const std::size_t n = events.size();
    std::size_t page_no = 0;
    std::size_t i = n;
    do {
      Json page = Json::object();
      if (page_no == 0) {
        page = {{"taskToken", token},
                {"startedEventId", n},
                {"previousStartedEventId", 0},
                {"workflowExecution", {{"workflowId", "wf-1"}, {"runId", "run-1"}}},
                {"workflowType", {{"name", "flow"}, {"version", "1.0"}}}};
      } else {
        page["pageToken"] = token + "-" + std::to_string(page_no);
      }
      page["events"] = Json::array();
      for (std::size_t k = 0; k < page_size && i > 0; ++k) page["events"].push_back(events[--i]);
      ++page_no;
      if (i > 0) page["nextPageToken"] = token + "-" + std::to_string(page_no);
      pages_.push_back(std::move(page));
    } while (i > 0);
  }

  void QueueRaw(Json page) { pages_.push_back(std::move(page)); }

 private:
  bool check_;
  std::deque<Json> pages_;
};

void Structured(FuzzedDataProvider& fdp, const Flows& flows) {
  const garcon::Flow& flow = fdp.ConsumeBool() ? flows.generated : flows.custom;
  const std::size_t page_size = fdp.ConsumeIntegralInRange<std::size_t>(1, 8);
  const std::size_t cache = fdp.ConsumeIntegralInRange<std::size_t>(0, 2);
  HistoryMaker maker(fdp, flow);
  std::vector<Json> events = maker.Make();
  const std::size_t prefix = events.empty() ? 0 : fdp.ConsumeIntegralInRange<std::size_t>(0, events.size());

  if (Verbose()) {
    std::string types;
    for (const Json& e : events) types += e.value("eventType", "?") + " ";
    std::fprintf(stderr, "%zu events, first task %zu: %s\n", events.size(), prefix, types.c_str());
  }
  ScriptedService service(/*check=*/true);
  garcon::Decider decider(flow, service, {"fuzz-decider", cache, static_cast<int>(page_size)});
  service.Queue(std::vector<Json>(events.begin(), events.begin() + static_cast<long>(prefix)),
                page_size, "t1");
  service.Queue(events, page_size, "t2");
  (void)decider.PollOnce();
  (void)decider.PollOnce();
}

void Raw(FuzzedDataProvider& fdp, const Flows& flows) {
  const garcon::Flow& flow = fdp.ConsumeBool() ? flows.generated : flows.custom;
  const std::string text = fdp.ConsumeRemainingBytesAsString();
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return;
  try {
    ScriptedService service(/*check=*/false);
    garcon::Decider decider(flow, service, {"fuzz-decider", 1, 100});
    if (parsed.is_array()) {
      garcon::HistoryState state;
      for (const Json& e : parsed) state.Apply(e);
      (void)garcon::Decide(flow, state, {"dev", "wf-1", "run-1"});
      std::vector<Json> events(parsed.begin(), parsed.end());
      service.Queue(events, 3, "t1");
    } else {
      service.QueueRaw(parsed);
    }
    (void)decider.PollOnce();
  } catch (const Json::exception& e) {
    if (Strict()) throw;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Flows flows;
  FuzzedDataProvider fdp(data, size);
  if (fdp.ConsumeIntegralInRange(0, 2) < 2) {
    Structured(fdp, flows);
  } else {
    Raw(fdp, flows);
  }
  return 0;
}
