#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "crosscut/log_context.hpp"
#include "engine_fixture.hpp"

namespace crosscut::testing {
namespace {

struct VendorError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST(LogEngine, LevelsFilterPerLoggerAndDottedChildren) {
  auto options = EngineUnderTest::quiet_options();
  options.level = sdk::Level::warning;
  options.levels = {{"orchestrator", sdk::Level::debug}, {"orchestrator.noisy", sdk::Level::error}};
  EngineUnderTest t(options);
  auto app = t.engine->logger("app");
  auto orch = t.engine->logger("orchestrator");
  auto child = t.engine->logger("orchestrator.ws");
  auto noisy = t.engine->logger("orchestrator.noisy");
  auto lookalike = t.engine->logger("orchestratorX");
  EXPECT_FALSE(app.enabled(sdk::Level::info));
  app.info("app info");
  app.warning("app warning");
  orch.debug("orch debug");
  child.debug("child debug");
  noisy.warning("noisy warning");
  noisy.error("noisy error");
  lookalike.info("lookalike info");
  std::vector<std::string> messages;
  for (const auto& r : t.drain()) messages.push_back(r.message);
  EXPECT_EQ(messages,
            (std::vector<std::string>{"app warning", "orch debug", "child debug", "noisy error"}));

  t.engine->set_level("app", sdk::Level::debug);
  EXPECT_TRUE(app.enabled(sdk::Level::debug));
  EXPECT_TRUE(t.engine->logger("app.sub").enabled(sdk::Level::debug));
}

TEST(LogEngine, LevelNamesAndCategoryInRecords) {
  EngineUnderTest t;
  auto log = t.engine->logger("svc", "audit");
  log.debug("d");
  log.info("i");
  log.warning("w");
  log.error("e");
  log.critical("c");
  const auto records = t.drain();
  ASSERT_EQ(records.size(), 5u);
  const char* names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
  for (int i = 0; i < 5; ++i) {
    rapidjson::Document doc;
    ASSERT_TRUE(parse_json_line(records[i].json, doc));
    EXPECT_STREQ(doc["level"].GetString(), names[i]);
    EXPECT_STREQ(doc["category"].GetString(), "audit");
  }
}

TEST(LogEngine, ContextScopeFieldsAppearInExtra) {
  EngineUnderTest t;
  auto log = t.engine->logger("orchestrator");
  {
    ContextScope outer(sdk::Value::Object{{"correlation_id", "uuid-1234"}, {"exchange", "upbit"}});
    {
      ContextScope inner(sdk::Value::Object{{"symbol", "BTC"}});
      log.info("inside", {{"exchange", "bithumb"}, {"offset", 12345}});
    }
    std::thread([&] { log.info("other thread"); }).join();
  }
  log.info("outside");
  const auto records = t.drain();
  ASSERT_EQ(records.size(), 3u);
  const auto& e = records[0].extra;
  ASSERT_TRUE(e.is_object());
  // Call fields first (and they win over context fields of the same name), then context.
  std::vector<std::string> keys;
  for (const auto& [k, v] : e.as_object()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"exchange", "offset", "correlation_id", "symbol"}));
  EXPECT_EQ(e.find("exchange")->as_string(), "bithumb");
  EXPECT_EQ(e.find("correlation_id")->as_string(), "uuid-1234");
  EXPECT_TRUE(records[1].extra.is_null());  // context is per thread
  EXPECT_TRUE(records[2].extra.is_null());
  EXPECT_NE(records[2].json.find(R"("extra":{})"), std::string::npos);
}

TEST(LogEngine, ExceptionOverloadWalksNestedExceptions) {
  EngineUnderTest t;
  auto log = t.engine->logger("orchestrator");
  try {
    try {
      throw VendorError("connection refused");
    } catch (...) {
      std::throw_with_nested(std::runtime_error("subscribe failed"));
    }
  } catch (const std::exception& e) {
    log.error("giving up", e, {{"attempt", 3}});
  }
  try {
    throw 42;
  } catch (...) {
    log.error("odd throw", std::current_exception());
  }
  const auto records = t.drain();
  ASSERT_EQ(records.size(), 2u);
  rapidjson::Document doc;
  ASSERT_TRUE(parse_json_line(records[0].json, doc));
  const auto& ex = doc["extra"]["exception"];
  EXPECT_EQ(doc["extra"]["attempt"].GetInt(), 3);
  EXPECT_STREQ(ex["type"].GetString(), "std::runtime_error");
  EXPECT_STREQ(ex["message"].GetString(), "subscribe failed");
  ASSERT_EQ(ex["nested"].Size(), 1u);
  EXPECT_STREQ(ex["nested"][0]["type"].GetString(),
               "crosscut::testing::(anonymous namespace)::VendorError");
  EXPECT_STREQ(ex["nested"][0]["message"].GetString(), "connection refused");
  ASSERT_TRUE(parse_json_line(records[1].json, doc));
  EXPECT_STREQ(doc["extra"]["exception"]["type"].GetString(), "int");
}

TEST(LogEngine, SdkLoggerSharesTheNamedLogger) {
  EngineUnderTest t;
  sdk::Logger& plugin_log = t.engine->sdk_logger("kafka", "plugin");
  EXPECT_EQ(&plugin_log, &t.engine->logger("kafka", "plugin").sdk_logger());
  plugin_log.warning("from a plugin", {{"topic", "ws.error"}});
  const auto records = t.drain();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].logger, "kafka");
  EXPECT_EQ(records[0].category, "plugin");
}

TEST(LogEngine, CriticalFlushesTheSinks) {
  EngineUnderTest t;
  auto log = t.engine->logger("x");
  log.critical("boom");
  log.info("after");
  t.drain();
  const auto events = t.sink.events();
  auto at = [&](const std::string& e) {
    return std::find(events.begin(), events.end(), e) - events.begin();
  };
  ASSERT_LT(at("write:boom"), static_cast<long>(events.size()));
  // A flush comes between the critical record and the next one.
  EXPECT_EQ(events[at("write:boom") + 1], "flush");
}

TEST(LogEngine, ReopenReachesTheSinksInOrder) {
  EngineUnderTest t;
  t.engine->reopen();
  t.drain();
  EXPECT_EQ(t.sink.reopens(), 1);
}

TEST(LogEngine, DropNewestCountsAndReportsDrops) {
  ManualClock clock;
  GateSink sink;
  auto options = EngineUnderTest::quiet_options();
  options.queue.capacity.bytes = 4096;
  options.queue.overflow = sdk::OverflowPolicy::drop_newest;
  logging::LogEngine engine(options, clock);
  engine.add_sink(&sink);
  engine.start();
  auto log = engine.logger("x");
  log.info("first");
  sink.wait_entered();  // the logging thread is now stuck in write()
  constexpr int kAsked = 500;
  for (int i = 0; i < kAsked; ++i) log.info("burst", {{"i", i}});
  sink.open();
  ASSERT_TRUE(engine.flush(std::chrono::seconds(30)));
  std::int64_t written = 0, reported = 0;
  for (const auto& r : sink.records()) {
    if (r.message == "burst") ++written;
    if (r.logger == "crosscut.logging") reported += r.extra.find("dropped")->as_int();
  }
  EXPECT_GT(reported, 0);
  EXPECT_EQ(written + reported, kAsked);
  EXPECT_EQ(engine.stats().dropped, static_cast<std::uint64_t>(reported));
  engine.shutdown();
}

// Without sinks, and before start / after shutdown, records go to stderr as JSON lines.
TEST(LogEngine, WithoutSinksRecordsGoToStderr) {
  char path[] = "/tmp/crosscut-stderr-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::fflush(stderr);
  const int saved = ::dup(2);
  ::dup2(fd, 2);
  {
    ManualClock clock;
    logging::LogEngine engine(EngineUnderTest::quiet_options(), clock);
    engine.logger("early").info("before start");
    engine.start();
    engine.logger("x").error("no sink attached", {{"k", "v"}});
    engine.shutdown();
    engine.logger("late").info("after shutdown");
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ::unlink(path);
  ASSERT_EQ(lines.size(), 3u);
  const char* expected[] = {"before start", "no sink attached", "after shutdown"};
  for (int i = 0; i < 3; ++i) {
    rapidjson::Document doc;
    ASSERT_TRUE(parse_json_line(lines[i], doc)) << lines[i];
    EXPECT_STREQ(doc["message"].GetString(), expected[i]);
  }
}

TEST(LogEngine, AfterShutdownSinksAreNotTouched) {
  EngineUnderTest t;
  t.engine->logger("x").info("kept");
  t.engine->shutdown();
  t.engine->shutdown();  // idempotent
  EXPECT_EQ(t.sink.records().size(), 1u);
  EXPECT_THROW(t.engine->add_sink(&t.sink), std::logic_error);
}

TEST(LogEngine, ManyThreadsLoseNothingUnderBlockPolicy) {
  auto options = EngineUnderTest::quiet_options();
  options.queue.capacity.bytes = 4096;
  EngineUnderTest t(options);
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th)
    threads.emplace_back([&, th] {
      auto log = t.engine->logger("w" + std::to_string(th));
      for (int i = 0; i < kEach; ++i) log.info("m", {{"i", i}});
    });
  for (auto& th : threads) th.join();
  const auto records = t.drain();
  ASSERT_EQ(records.size(), static_cast<std::size_t>(kThreads * kEach));
  // Per logger, records arrive in call order.
  std::map<std::string, std::int64_t> last;
  for (const auto& r : records) {
    const auto i = r.extra.find("i")->as_int();
    auto it = last.find(r.logger);
    if (it != last.end()) {
      EXPECT_EQ(i, it->second + 1);
    }
    last[r.logger] = i;
  }
}

// A sink that logs through the engine (as a plugin may, via HostContext::logger) must not
// wait on the queue only its own thread drains; its records go to stderr instead.
class LoggingSink : public RecordingSink {
 public:
  logging::LogEngine* engine = nullptr;
  void write(const sdk::LogRecord& r) noexcept override {
    RecordingSink::write(r);
    engine->logger("sink").warning("sink saw a record");
  }
};

TEST(LogEngine, SinkThatLogsDoesNotDeadlock) {
  ManualClock clock;
  LoggingSink sink;
  auto options = EngineUnderTest::quiet_options();
  options.queue.capacity.bytes = 4096;
  logging::LogEngine engine(options, clock);
  sink.engine = &engine;
  engine.add_sink(&sink);
  engine.start();
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int devnull = ::open("/dev/null", O_WRONLY);
  ::dup2(devnull, 2);
  for (int i = 0; i < 50; ++i) engine.logger("app").info("outer");
  const bool flushed = engine.flush(std::chrono::seconds(30));
  engine.shutdown();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(devnull);
  EXPECT_TRUE(flushed);
  EXPECT_EQ(sink.records().size(), 50u);
}

TEST(LogEngine, DefaultLoggerHandleDiscards) {
  Logger none;
  EXPECT_FALSE(none.enabled(sdk::Level::critical));
  none.critical("nowhere");  // must not crash
}

}  // namespace
}  // namespace crosscut::testing
