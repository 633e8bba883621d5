// The router's side of the socket protocol, against a real runtime: what each request is
// answered, that bad requests get ok:false and count as bad lines, that requests need a way
// back, that a log event's exception reaches the record, and that a flush is answered only
// once the records before it are written.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>

#include "agent/event_router.hpp"
#include "agent/flush_replier.hpp"
#include "crosscut/version.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

using crosscut::Runtime;
using crosscut::agent::AgentStats;
using crosscut::agent::BadLineReporter;
using crosscut::agent::EventRouter;
using crosscut::agent::FlushReplier;
namespace sdk = crosscut::sdk;

namespace {

// The input's side of one connection: replies by place, as sent.
class RecordedReplies final : public sdk::ReplyChannel {
 public:
  std::uint64_t reserve() override {
    std::lock_guard lock(mu_);
    return next_++;
  }
  void send(std::uint64_t place, std::string_view reply) override {
    {
      std::lock_guard lock(mu_);
      replies_[place] = std::string(reply);
    }
    cv_.notify_all();
  }
  std::uint64_t reserved() {
    std::lock_guard lock(mu_);
    return next_;
  }
  // The reply for `place`, waiting up to 20 s for it; "" when it did not come.
  std::string at(std::uint64_t place) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return replies_.count(place) != 0; });
    auto it = replies_.find(place);
    return it == replies_.end() ? std::string() : it->second;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t next_ = 0;
  std::map<std::uint64_t, std::string> replies_;
};

struct Fixture {
  crosscut::testing::TempDir dir;
  std::filesystem::path log_file = dir.path() / "log.ndjson";
  std::unique_ptr<Runtime> rt;
  AgentStats stats;
  std::unique_ptr<BadLineReporter> bad;
  std::unique_ptr<EventRouter> router;
  std::shared_ptr<RecordedReplies> replies = std::make_shared<RecordedReplies>();
  std::uint64_t sent = 0;

  Fixture() {
    crosscut::RuntimeOptions o;
    o.plugin_paths = {CROSSCUT_TEST_PLUGIN_DIR};
    o.quiet = true;
    rt = Runtime::from_string(
        "logging: {sinks: [{type: rotating_file, path: \"" + log_file.string() +
            "\"}]}\nbreakers: {defaults: {failure_threshold: 2},\n"
            "  overrides: {\"slow/korea/ticker\": {mode: rate, minimum_calls: 2,\n"
            "    slow_call_duration: 100ms, slow_call_rate: 1}}}\n",
        "agent.yaml", o);
    bad = std::make_unique<BadLineReporter>(rt->logger("agent.input"), 10);
    router = std::make_unique<EventRouter>(*rt, stats, *bad, std::nullopt);
  }

  // Delivers `line` as a request line of the fixture's connection; returns its reply, or ""
  // when it got no place (a line without an id).
  std::string ask(std::string_view line) {
    const std::uint64_t before = replies->reserved();
    router->on_request_line(line, {"unix:test#1", ++sent},
                            std::static_pointer_cast<sdk::ReplyChannel>(replies));
    if (replies->reserved() == before) return {};
    return replies->at(before);
  }

  std::vector<std::string> log_lines() const {
    std::vector<std::string> out;
    std::ifstream in(log_file);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
};

TEST(EventRouterRequests, HelloSaysTheProtocolVersionAndTheEvents) {
  Fixture f;
  EXPECT_EQ(
      f.ask(R"({"event":"hello","id":0,"protocol":1})"),
      std::string(R"({"id":0,"ok":true,"protocol":1,"agent":"crosscut )") + crosscut::version() +
          R"(","events":["acquire","breaker","error","flush","hello","log","message","outcome"]})");
}

TEST(EventRouterRequests, AcquireAndBreakerFollowTheBreakerThroughItsStates) {
  Fixture f;
  EXPECT_EQ(f.ask(R"({"event":"acquire","resource":"upbit/korea/ticker","id":1})"),
            R"({"id":1,"ok":true,"allowed":true,"state":"CLOSED"})");
  EXPECT_EQ(
      f.ask(R"({"event":"outcome","resource":"upbit/korea/ticker","success":false,"id":"f1"})"),
      R"({"id":"f1","ok":true,"state":"CLOSED"})");
  EXPECT_EQ(
      f.ask(R"({"event":"breaker","resource":"upbit/korea/ticker","id":2})"),
      R"({"id":2,"ok":true,"state":"CLOSED","failures":1,"opened_at_ms":null,"open_until_ms":null,"forced_open":false})");
  // One-way, as before: the second failure (threshold 2) opens it, and nothing is answered.
  EXPECT_EQ(f.ask(R"({"event":"outcome","resource":"upbit/korea/ticker","success":false})"), "");
  EXPECT_EQ(f.ask(R"({"event":"acquire","resource":"upbit/korea/ticker","id":3})"),
            R"({"id":3,"ok":true,"allowed":false,"state":"OPEN"})");
  rapidjson::Document state;
  state.Parse(f.ask(R"({"event":"breaker","resource":"upbit/korea/ticker","id":4})").c_str());
  ASSERT_TRUE(state.IsObject());
  EXPECT_STREQ(state["state"].GetString(), "OPEN");
  EXPECT_EQ(state["failures"].GetInt(), 2);
  ASSERT_TRUE(state["opened_at_ms"].IsInt64());
  EXPECT_GT(state["opened_at_ms"].GetInt64(), 1'700'000'000'000);
  ASSERT_TRUE(state["open_until_ms"].IsInt64()) << "an OPEN breaker says when it half-opens";
  EXPECT_GT(state["open_until_ms"].GetInt64(), state["opened_at_ms"].GetInt64());
  // The same state through the runtime: the socket asks the one breaker everyone shares.
  EXPECT_EQ(f.rt->breaker("upbit/korea/ticker").state(), sdk::BreakerState::open);
  EXPECT_EQ(f.stats.outcomes.load(), 2U);
}

TEST(EventRouterRequests, AnOutcomeWithRetryAfterHoldsTheBreakerOpenThatLong) {
  Fixture f;
  EXPECT_EQ(f.ask(R"({"event":"outcome","resource":"bithumb/korea/ticker","success":false,)"
                  R"("retry_after_ms":0,"id":1})"),
            R"({"id":1,"ok":true,"state":"CLOSED"})")
      << "no Retry-After: the failure alone, below the threshold";
  EXPECT_EQ(f.ask(R"({"event":"outcome","resource":"bithumb/korea/ticker","success":false,)"
                  R"("retry_after_ms":3600000,"id":2})"),
            R"({"id":2,"ok":true,"state":"OPEN"})");
  auto r = f.rt->breaker("bithumb/korea/ticker").apply(sdk::BreakerOp::state);
  ASSERT_TRUE(r.open_until_ms.has_value());
  // The second failure opened it (threshold 2); the hold began at the same or a later tick.
  EXPECT_GE(*r.open_until_ms - *r.opened_at_ms, 3'600'000) << "an hour, not the 60s timeout";
  EXPECT_LT(*r.open_until_ms - *r.opened_at_ms, 3'600'000 + 60'000);
  EXPECT_EQ(f.ask(R"({"event":"acquire","resource":"bithumb/korea/ticker","id":3})"),
            R"({"id":3,"ok":true,"allowed":false,"state":"OPEN"})");
  for (const char* bad : {R"("retry_after_ms":-1)", R"("retry_after_ms":"60")",
                          R"("retry_after_ms":1.5)", R"("retry_after_ms":99999999999999)"}) {
    const std::string reply = f.ask(std::string(R"({"event":"outcome","resource":"x/y/z",)") +
                                    R"("success":false,)" + bad + R"(,"id":"b"})");
    EXPECT_NE(reply.find(R"("ok":false,"error":"'retry_after_ms' must be an integer from 0 to)"),
              std::string::npos)
        << reply;
  }
  EXPECT_EQ(f.rt->breaker("x/y/z").apply(sdk::BreakerOp::state).failures, 0u)
      << "a refused outcome records nothing";
}

TEST(EventRouterRequests, AnOutcomesDurationFeedsTheSlowCallRule) {
  Fixture f;
  EXPECT_EQ(f.ask(R"({"event":"outcome","resource":"slow/korea/ticker","success":true,)"
                  R"("duration_ms":99,"id":1})"),
            R"({"id":1,"ok":true,"state":"CLOSED"})")
      << "below slow_call_duration";
  EXPECT_EQ(f.ask(R"({"event":"outcome","resource":"slow/korea/ticker","success":true,)"
                  R"("duration_ms":100,"id":2})"),
            R"({"id":2,"ok":true,"state":"CLOSED"})")
      << "one of two slow is below slow_call_rate 1";
  auto r = f.rt->breaker("slow/korea/ticker").apply(sdk::BreakerOp::state);
  EXPECT_EQ(r.calls, 2u);
  EXPECT_EQ(r.slow_calls, 1u);
  for (const char* bad : {R"("duration_ms":-1)", R"("duration_ms":"60")", R"("duration_ms":1.5)",
                          R"("duration_ms":99999999999999)"}) {
    const std::string reply =
        f.ask(std::string(R"({"event":"outcome","resource":"slow/korea/ticker",)") +
              R"("success":true,)" + bad + R"(,"id":"b"})");
    EXPECT_NE(reply.find(R"("ok":false,"error":"'duration_ms' must be an integer from 0 to)"),
              std::string::npos)
        << reply;
  }
  EXPECT_EQ(f.rt->breaker("slow/korea/ticker").apply(sdk::BreakerOp::state).calls, 2u)
      << "a refused outcome records nothing";
}

TEST(EventRouterRequests, OneWayEventsWithAnIdAreAcknowledgedOnceHandled) {
  Fixture f;
  EXPECT_EQ(
      f.ask(
          R"({"event":"message","target":{"exchange":"upbit","region":"korea","request_type":"ticker"},"symbol":"BTC","id":7})"),
      R"({"id":7,"ok":true})");
  EXPECT_EQ(f.stats.messages.load(), 1U);
  EXPECT_EQ(f.ask(R"({"event":"error","kind":"ws_connection","id":8})"), R"({"id":8,"ok":true})");
  EXPECT_EQ(f.rt->errors().stats().seen, 1U);
  EXPECT_EQ(f.ask(R"({"event":"log","level":"info","message":"hi","id":9})"),
            R"({"id":9,"ok":true})");
  EXPECT_EQ(f.stats.logs.load(), 1U);
}

TEST(EventRouterRequests, BadRequestsAreAnsweredOkFalseAndCountedAsBadLines) {
  Fixture f;
  EXPECT_EQ(f.ask(R"({"event":"acquire","id":1})"),
            R"({"id":1,"ok":false,"error":"missing 'resource'"})");
  EXPECT_EQ(f.ask(R"({"event":"acquire","resource":"","id":2})"),
            R"({"id":2,"ok":false,"error":"'resource' must not be empty"})");
  EXPECT_EQ(
      f.ask(R"({"event":"teleport","id":"t"})"),
      R"x({"id":"t","ok":false,"error":"unknown event 'teleport' (message, error, outcome, log; acquire, breaker, flush, hello with an id)"})x");
  EXPECT_EQ(f.ask(R"({"event":"message","target":{"exchange":"x"},"id":3})"),
            R"({"id":3,"ok":false,"error":"target: missing 'region'"})");
  // An id that cannot be echoed is answered with a null one.
  EXPECT_EQ(f.ask(R"({"event":"hello","id":1.5})"),
            R"({"id":null,"ok":false,"error":"'id' must be an integer or a string"})");
  EXPECT_EQ(f.ask(R"({"event":"hello","id":{"a":1}})"),
            R"({"id":null,"ok":false,"error":"'id' must be an integer or a string"})");
  // Not JSON: no id can be read, so no reply; counted all the same.
  EXPECT_EQ(f.ask(R"({"event":"acquire","id":5)"), "");
  EXPECT_EQ(f.stats.bad_lines.load(), 7U);
  EXPECT_EQ(f.stats.messages.load(), 0U);
}

TEST(EventRouterRequests, RequestsWithoutAWayBackAreBadLinesAndTakeNoPermit) {
  Fixture f;
  // Without an id ...
  EXPECT_EQ(f.ask(R"({"event":"acquire","resource":"a/b/c"})"), "");
  // ... and on an input that cannot reply, even with one.
  f.router->on_line(R"({"event":"acquire","resource":"a/b/c","id":1})", {"stdin", 1});
  f.router->on_line(R"({"event":"flush","id":2})", {"stdin", 2});
  EXPECT_EQ(f.stats.bad_lines.load(), 3U);
  // No permit was taken: the breaker never saw an acquire (one answered makes its key known).
  EXPECT_EQ(f.ask(R"({"event":"acquire","resource":"x/y/z","id":3})"),
            R"({"id":3,"ok":true,"allowed":true,"state":"CLOSED"})");
  const auto keys = f.rt->breaker_keys();
  EXPECT_NE(std::find(keys.begin(), keys.end(), "x/y/z"), keys.end());
  EXPECT_EQ(std::find(keys.begin(), keys.end(), "a/b/c"), keys.end());
}

TEST(EventRouterRequests, ALogEventsExceptionBecomesTheRecordsExceptionObject) {
  Fixture f;
  EXPECT_EQ(
      f.ask(
          R"({"event":"log","level":"error","logger":"collector","message":"subscribe failed",)"
          R"("extra":{"correlation_id":"c-9","exception":"the sender's","n":3},)"
          R"("exception":{"type":"ConnectionError","message":"refused","traceback":"Traceback: line 1"},"id":1})"),
      R"({"id":1,"ok":true})");
  EXPECT_EQ(
      f.ask(R"({"event":"log","level":"error","message":"bad","exception":[1],"id":2})"),
      R"({"id":2,"ok":false,"error":"'exception' must be an object {type, message, traceback}"})");
  // The flush answer says the record is written: the file can be read at once.
  EXPECT_EQ(f.ask(R"({"event":"flush","id":3})"), R"({"id":3,"ok":true})");
  std::string record;
  for (const auto& line : f.log_lines())
    if (line.find("subscribe failed") != std::string::npos) record = line;
  ASSERT_FALSE(record.empty());
  rapidjson::Document doc;
  doc.Parse(record.c_str());
  ASSERT_TRUE(doc.IsObject()) << record;
  EXPECT_STREQ(doc["logger"].GetString(), "collector");
  const auto& extra = doc["extra"];
  EXPECT_STREQ(extra["correlation_id"].GetString(), "c-9");
  EXPECT_EQ(extra["n"].GetInt(), 3);
  EXPECT_STREQ(extra["exception"]["type"].GetString(), "ConnectionError");
  EXPECT_STREQ(extra["exception"]["message"].GetString(), "refused");
  EXPECT_STREQ(extra["exception"]["traceback"].GetString(), "Traceback: line 1");
  EXPECT_EQ(record.find("the sender's"), std::string::npos) << record;
}

TEST(EventRouterRequests, AFlushThroughTheReplierIsAnsweredAfterTheRecordsBeforeItAreWritten) {
  Fixture f;
  FlushReplier flushes(*f.rt, crosscut::agent::kFlushReplyTimeout);
  f.router->answer_flushes_through(flushes);
  constexpr int kRecords = 2000;
  for (int i = 0; i < kRecords; ++i)
    f.router->on_request_line(
        R"({"event":"log","level":"warning","message":"record )" + std::to_string(i) + R"("})",
        {"unix:test#1", static_cast<std::uint64_t>(i + 1)},
        std::static_pointer_cast<sdk::ReplyChannel>(f.replies));
  EXPECT_EQ(f.ask(R"({"event":"flush","id":"sync"})"), R"({"id":"sync","ok":true})");
  int written = 0;
  for (const auto& line : f.log_lines())
    if (line.find("\"message\":\"record ") != std::string::npos) ++written;
  EXPECT_EQ(written, kRecords);
}

}  // namespace
