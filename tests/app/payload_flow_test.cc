// Payloads past SWF's 32,768 characters end to end: a flow whose workflow
// input, activity results, activity inputs (the merged context) and
// workflow result are far larger than SWF allows completes, with every
// value whole where a task or the caller reads it, and the history holding
// references. On the test kit (fake clock) and with RunFlow on a real
// SQLite file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "garcon/app.h"
#include "garcon/engine.h"
#include "garcon/flow.h"
#include "garcon/store.h"
#include "garcon/testing.h"

namespace garcon {
namespace {

using ::testing::HasSubstr;

constexpr std::size_t kBig = 200000;  // characters: six times SWF's limit

// document (input, 200,000 characters) -> split: 20 pieces of 10,000 ->
// measure x20 (each reads the whole context: over 400,000 characters) ->
// join: the pieces' lengths, and the document back whole.
void BuildFlow(Flow& flow) {
  auto& split = flow.Activity("split").Run(Sync([](ActivityExecution&, const Context& c) {
    const std::string doc = c.value("document", "");
    Context out;
    for (int i = 0; i < 20; ++i) {
      out["piece." + std::to_string(i)] = doc.substr(static_cast<std::size_t>(i) * 10000, 10000);
    }
    return out;
  }));
  auto& measure = flow.Activity("measure")
                      .Requires({&split})
                      .Generator([](const Context&) {
                        std::vector<Context> out;
                        for (int i = 0; i < 20; ++i) out.push_back({{"generator.i", i}});
                        return out;
                      })
                      .Run(Sync([](ActivityExecution&, const Context& c) {
                        const int i = c.value("generator.i", -1);
                        const std::string piece = c.value("piece." + std::to_string(i), "");
                        // A result of 40,000 characters per instance.
                        return Context{{"measured." + std::to_string(i), piece.size()},
                                       {"echo." + std::to_string(i), piece + piece + piece + piece}};
                      }));
  flow.Activity("join").Requires({&measure}).Run(Sync([](ActivityExecution&, const Context& c) {
    std::size_t total = 0;
    std::string doc;
    for (int i = 0; i < 20; ++i) {
      total += c.value("measured." + std::to_string(i), std::size_t{0});
      doc += c.value("piece." + std::to_string(i), "");
    }
    return Context{{"total", total}, {"document_again", doc}};
  }));
}

std::string Document() {
  std::string doc;
  for (std::size_t i = 0; doc.size() < kBig; ++i) doc += "line " + std::to_string(i) + "\n";
  doc.resize(kBig);
  return doc;
}

int References(const std::vector<Json>& history) {
  int n = 0;
  for (const Json& e : history) {
    if (e.dump().find("garcon.payload") != std::string::npos) ++n;
  }
  return n;
}

TEST(PayloadFlowTest, ValuesPastSwfsLimitTravelAsPayloadsOnTheTestKit) {
  Flow flow("payload-domain", "payload_flow");
  BuildFlow(flow);
  testing::FlowTest test(flow);
  const std::string doc = Document();
  const auto run = test.Run({{"document", doc}});
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason;
  EXPECT_EQ(run.result.value("total", 0), static_cast<int>(kBig));
  EXPECT_EQ(run.result.value("document_again", ""), doc);
  EXPECT_EQ(run.result.value("echo.7", "").size(), 40000u);
  // The history as stored: references, not the values.
  Json raw = *test.engine().Call("GetWorkflowExecutionHistory",
                                 {{"domain", "payload-domain"},
                                  {"execution", {{"workflowId", run.workflow_id},
                                                 {"runId", run.run_id}}},
                                  {"maximumPageSize", 1000}});
  const auto events = raw["events"].get<std::vector<Json>>();
  // The input, every result of measure (40,000 characters each), the inputs
  // of measure and join, and the workflow result.
  EXPECT_GE(References(events), 1 + 20 + 20 + 1 + 1);
  for (const Json& e : events) EXPECT_LE(e.dump().size(), 40000u) << e.value("eventType", "");
}

TEST(PayloadFlowTest, RunFlowOnASqliteFileStoresPayloadsDurably) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("garcon-payload-flow-" + std::to_string(::getpid()) + ".db"))
                               .string();
  std::filesystem::remove(path);
  Flow flow("payload-domain", "payload_flow");
  BuildFlow(flow);
  const std::string doc = Document();
  std::string workflow_id;
  std::string run_id;
  {
    auto store = store::OpenSqliteStore(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    engine::EngineOptions options;
    options.store = *store;
    engine::Engine engine(options);
    RunOptions run_options;
    run_options.input = {{"document", doc}};
    run_options.release_polls = [&engine] { engine.Shutdown(); };
    Result<RunSummary> summary = RunFlow(flow, engine, run_options);
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    ASSERT_EQ(summary->close_status, "COMPLETED") << summary->reason;
    EXPECT_EQ(summary->result.value("document_again", ""), doc);
    workflow_id = summary->workflow_id;
    run_id = summary->run_id;
  }
  // After a restart the history's references still resolve.
  {
    auto store = store::OpenSqliteStore(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    engine::EngineOptions options;
    options.store = *store;
    engine::Engine engine(options);
    RunSummary summary;
    summary.workflow_id = workflow_id;
    summary.run_id = run_id;
    Result<RunSummary> closed = WaitForClose(flow, engine, summary, false);
    ASSERT_TRUE(closed.ok()) << closed.status().ToString();
    EXPECT_EQ(closed->close_status, "COMPLETED");
    EXPECT_EQ(closed->result.value("document_again", ""), doc);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(PayloadFlowTest, AValuePastTheLargestPayloadFailsTheRunClearly) {
  Flow flow("payload-domain", "too_big_flow");
  flow.Activity("huge").Run(Sync([](ActivityExecution&, const Context&) {
    return Context{{"huge", std::string(kMaxPayloadBytes + 10, 'h')}};
  }));
  testing::FlowTest test(flow);
  const auto run = test.Run();
  ASSERT_EQ(run.close_status, "FAILED");
  EXPECT_THAT(run.reason, HasSubstr("huge"));
  EXPECT_THAT(run.details + run.reason, HasSubstr(std::to_string(kMaxPayloadBytes)));
}

}  // namespace
}  // namespace garcon
