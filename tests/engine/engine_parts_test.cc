// The engine's parts on their own: task queues, the timer queue, tokens,
// durations and history paging.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/durations.h"
#include "engine/history.h"
#include "engine/task_queue.h"
#include "engine/timer_queue.h"
#include "engine/tokens.h"

namespace garcon::engine {
namespace {

TEST(TaskQueue, PriorityThenFifoAndRemove) {
  TaskQueue queue;
  const QueuePosition low = queue.Push(1, {"r", 1});
  queue.Push(5, {"r", 2});
  const QueuePosition high_second = queue.Push(5, {"r", 3});
  queue.Push(-2, {"r", 4});
  EXPECT_EQ(queue.size(), 4u);
  EXPECT_TRUE(queue.Remove(high_second));
  EXPECT_FALSE(queue.Remove(high_second));
  EXPECT_FALSE(queue.Remove(QueuePosition{}));
  std::vector<std::int64_t> order;
  while (auto task = queue.Pop()) order.push_back(task->scheduled_event_id);
  EXPECT_EQ(order, (std::vector<std::int64_t>{2, 1, 4}));
  EXPECT_FALSE(queue.Remove(low));
  EXPECT_TRUE(queue.empty());
}

TEST(TaskQueue, WaitersOldestFirst) {
  TaskQueue queue;
  queue.AddWaiter(7);
  queue.AddWaiter(8);
  queue.AddWaiter(9);
  EXPECT_TRUE(queue.RemoveWaiter(8));
  EXPECT_FALSE(queue.RemoveWaiter(8));
  queue.AddWaiterFront(6);
  EXPECT_EQ(queue.waiters(), 3u);
  EXPECT_EQ(queue.PopWaiter(), 6u);
  EXPECT_EQ(queue.PopWaiter(), 7u);
  EXPECT_EQ(queue.PopWaiter(), 9u);
  EXPECT_FALSE(queue.PopWaiter().has_value());
}

TEST(TimerQueue, OrderCancelAndDue) {
  TimerQueue timers;
  const TimePoint t0 = FromEpochSeconds(1000);
  Deadline a;
  a.when = t0 + std::chrono::seconds(5);
  a.name = "a";
  Deadline b = a;
  b.when = t0 + std::chrono::seconds(1);
  b.name = "b";
  Deadline c = a;
  c.name = "c";
  const DeadlineId ida = timers.Add(a);
  timers.Add(b);
  timers.Add(c);
  EXPECT_EQ(timers.Earliest(), b.when);
  EXPECT_FALSE(timers.PopDue(t0).has_value());
  EXPECT_EQ(timers.PopDue(t0 + std::chrono::seconds(1))->second.name, "b");
  timers.Cancel(ida);
  timers.Cancel(ida);
  timers.Cancel(0);
  EXPECT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers.PopDue(t0 + std::chrono::seconds(10))->second.name, "c");
  EXPECT_FALSE(timers.Earliest().has_value());
}

TEST(Tokens, RunIdsAndSecrets) {
  const std::string a = NewRunId();
  EXPECT_EQ(a.size(), 44u);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            std::string::npos);
  EXPECT_NE(a, NewRunId());
  EXPECT_EQ(NewSecret().size(), 32u);
}

// Random bytes are drawn a block at a time: a forked child must not hand
// out the rest of the block its parent holds.
TEST(Tokens, AForkedChildDoesNotRepeatItsParentsSecrets) {
  (void)NewSecret();  // the parent's block is drawn
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string secret = NewSecret();
    const ssize_t written = ::write(fds[1], secret.data(), secret.size());
    ::_exit(written == static_cast<ssize_t>(secret.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  const std::string parent = NewSecret();
  std::string from_child(32, '\0');
  std::size_t got = 0;
  while (got < from_child.size()) {
    const ssize_t n = ::read(fds[0], from_child.data() + got, from_child.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, 32u);
  EXPECT_NE(from_child, parent);
}

TEST(Tokens, RunIdsSortInTheOrderTheyWereMade) {
  // A store's indexes keep the rows of runs started together together.
  std::string previous = NewRunId();
  for (int i = 0; i < 1000; ++i) {
    const std::string next = NewRunId();
    EXPECT_LT(previous.substr(0, 10), next.substr(0, 10));
    EXPECT_LT(previous, next);
    previous = next;
  }
}

TEST(Tokens, TaskTokenRoundTrip) {
  TaskToken token{TaskKind::kActivity, NewRunId(), 5, 6, NewSecret()};
  const std::string text = EncodeTaskToken(token);
  EXPECT_LE(text.size(), 1024u);
  auto back = DecodeTaskToken(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, TaskKind::kActivity);
  EXPECT_EQ(back->run_id, token.run_id);
  EXPECT_EQ(back->scheduled_event_id, 5);
  EXPECT_EQ(back->started_event_id, 6);
  EXPECT_EQ(back->secret, token.secret);
  EXPECT_FALSE(DecodeTaskToken("").has_value());
  EXPECT_FALSE(DecodeTaskToken("!!!").has_value());
  EXPECT_FALSE(DecodeTaskToken(Base64UrlEncode("x|r|1|2|s")).has_value());
  EXPECT_FALSE(DecodeTaskToken(Base64UrlEncode("a|r|1|2")).has_value());
  EXPECT_FALSE(DecodeTaskToken(Base64UrlEncode("a|r|-1|2|s")).has_value());
  EXPECT_FALSE(DecodeTaskToken(Base64UrlEncode("a|r|1|2|s|t")).has_value());
}

TEST(Tokens, Base64Url) {
  const std::vector<std::string> samples = {"",    "a",    "ab",
                                            "abc", "abcd", std::string("\0\xff\x10", 3)};
  for (const std::string& s : samples) {
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(s)), s);
  }
  EXPECT_FALSE(Base64UrlDecode("a").has_value());
  EXPECT_FALSE(Base64UrlDecode("ab=c").has_value());
  EXPECT_FALSE(Base64UrlDecode("ab").has_value() && Base64UrlDecode("ab") == Base64UrlDecode("aa"));
}

TEST(Tokens, PageTokens) {
  const std::string token = EncodePageToken("history", Json{{"n", 5}});
  auto fields = DecodePageToken(token, "history");
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ((*fields)["n"], 5);
  EXPECT_EQ(DecodePageToken(token, "domains").fault(), Fault::kValidation);
  EXPECT_EQ(DecodePageToken("nope", "history").fault(), Fault::kValidation);
  EXPECT_EQ(DecodePageToken("gp1.####", "history").fault(), Fault::kValidation);
  EXPECT_EQ(DecodePageToken("gp1." + Base64UrlEncode("[1]"), "history").fault(),
            Fault::kValidation);
}

TEST(Durations, Parse) {
  std::optional<std::int64_t> seconds;
  EXPECT_TRUE(ParseDuration("300", "f", true, &seconds).ok());
  EXPECT_EQ(seconds, 300);
  EXPECT_TRUE(ParseDuration("0", "f", true, &seconds).ok());
  EXPECT_EQ(seconds, 0);
  EXPECT_TRUE(ParseDuration("NONE", "f", true, &seconds).ok());
  EXPECT_FALSE(seconds.has_value());
  EXPECT_EQ(ParseDuration("NONE", "f", false, &seconds).fault(), Fault::kValidation);
  for (const char* bad : {"", "-1", "+1", "1.5", "1s", "none", " 1"}) {
    EXPECT_EQ(ParseDuration(bad, "f", true, &seconds).fault(), Fault::kValidation) << bad;
  }
  EXPECT_EQ(DurationSeconds("12"), 12);
  EXPECT_FALSE(DurationSeconds("NONE").has_value());
}

TEST(Durations, Priority) {
  std::int64_t p = 0;
  EXPECT_TRUE(ParsePriority("-5", "p", &p).ok());
  EXPECT_EQ(p, -5);
  EXPECT_TRUE(ParsePriority("2147483647", "p", &p).ok());
  EXPECT_EQ(ParsePriority("2147483648", "p", &p).fault(), Fault::kValidation);
  EXPECT_EQ(ParsePriority("high", "p", &p).fault(), Fault::kValidation);
  EXPECT_EQ(PriorityOrZero(std::nullopt), 0);
  EXPECT_EQ(PriorityOrZero(std::string("9")), 9);
}

TEST(History, EventShapeAndKeys) {
  EXPECT_EQ(EventAttributesKey("ActivityTaskScheduled"), "activityTaskScheduledEventAttributes");
  EXPECT_EQ(DecisionAttributesKey("StartTimer"), "startTimerDecisionAttributes");
  const Json event = MakeEvent(3, FromEpochSeconds(10.5), "TimerFired", Json{{"timerId", "t"}});
  EXPECT_EQ(event, Json::parse(R"({"eventId": 3, "eventTimestamp": 10.5, "eventType": "TimerFired",
      "timerFiredEventAttributes": {"timerId": "t"}})"));
}

TEST(History, PageEvents) {
  std::vector<Json> events;
  for (int i = 1; i <= 7; ++i) events.push_back(Json{{"eventId", i}});
  auto ids = [](const EventPage& page) {
    std::vector<int> out;
    for (const Json& e : page.events) out.push_back(e["eventId"]);
    return out;
  };
  EventPage page = PageEvents(events, 1, 7, std::nullopt, 3, false);
  EXPECT_EQ(ids(page), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(page.next, 4);
  page = PageEvents(events, 1, 7, 7, 3, false);
  EXPECT_EQ(ids(page), (std::vector<int>{7}));
  EXPECT_FALSE(page.next.has_value());
  page = PageEvents(events, 1, 5, std::nullopt, 2, true);
  EXPECT_EQ(ids(page), (std::vector<int>{5, 4}));
  EXPECT_EQ(page.next, 3);
  page = PageEvents(events, 3, 5, 3, 2, true);
  EXPECT_EQ(ids(page), (std::vector<int>{3}));
  EXPECT_FALSE(page.next.has_value());
  EXPECT_TRUE(PageEvents(events, 1, 0, std::nullopt, 2, false).events.empty());
}

}  // namespace
}  // namespace garcon::engine
