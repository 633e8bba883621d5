// The per-thread queues: conservation of records under load and overflow, release of the
// queues of exited threads, and the order of records from different threads.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/system_clock.hpp"
#include "engine_fixture.hpp"
#include "logging/log_engine.hpp"

namespace crosscut::testing {
namespace {

// Tallies what the engine wrote: records of the test's templates, and the suppressed and
// dropped counts reported in records.
class TallySink : public sdk::LogSink {
 public:
  void write(const sdk::LogRecord& r) noexcept override {
    std::lock_guard lock(mu_);
    const sdk::Value* extra = r.extra;
    auto field = [&](std::string_view k) { return extra ? extra->find(k) : nullptr; };
    if (const auto* s = field("suppressed")) suppressed_reported += s->as_int();
    if (r.logger == "crosscut.logging") {
      if (const auto* d = field("dropped")) dropped_reported += d->as_int();
      return;
    }
    if (field("shutdown")) return;  // a pending suppressed count, not a record asked for
    ++written;
    const auto* thread = field("thread");
    const auto* i = field("i");
    if (thread && i) {
      auto& last = last_i[thread->as_int()];
      if (i->as_int() <= last) ++out_of_order;
      last = i->as_int();
    }
  }
  void flush() noexcept override {}

  std::mutex mu_;
  std::int64_t written = 0, suppressed_reported = 0, dropped_reported = 0, out_of_order = 0;
  std::map<std::int64_t, std::int64_t> last_i;
};

struct Conservation {
  std::int64_t written, suppressed, dropped;
};

Conservation log_two_million(sdk::OverflowPolicy overflow, std::uint32_t per_second) {
  core::SystemClock clock;
  TallySink sink;
  logging::LogOptions options;
  options.pii.enabled = true;
  options.sampling.per_message_per_second = per_second;
  options.queue.capacity.bytes = 64 << 10;
  options.queue.overflow = overflow;
  constexpr std::int64_t kEach = 1'000'000;
  logging::LogEngine engine(options, clock);
  engine.add_sink(&sink);
  engine.start();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      auto log = engine.logger("load");
      for (std::int64_t i = 1; i <= kEach; ++i)
        log.info(i % 2 ? "tick odd" : "tick even",
                 {{"thread", t}, {"i", i}, {"exchange", "upbit"}});
    });
  }
  for (auto& t : threads) t.join();
  engine.shutdown();
  const auto stats = engine.stats();
  std::lock_guard lock(sink.mu_);
  EXPECT_EQ(sink.out_of_order, 0);  // per thread, records keep their call order
  EXPECT_EQ(sink.suppressed_reported, static_cast<std::int64_t>(stats.suppressed));
  EXPECT_EQ(sink.dropped_reported, static_cast<std::int64_t>(stats.dropped));
  EXPECT_EQ(stats.lost, 0u);
  EXPECT_EQ(sink.written + static_cast<std::int64_t>(stats.suppressed) +
                static_cast<std::int64_t>(stats.dropped),
            2 * kEach);
  return {sink.written, static_cast<std::int64_t>(stats.suppressed),
          static_cast<std::int64_t>(stats.dropped)};
}

TEST(ThreadQueues, TwoMillionRecordsUnderBlockAreAllWrittenOrSuppressed) {
  const auto c = log_two_million(sdk::OverflowPolicy::block, 1000);
  EXPECT_EQ(c.dropped, 0);
  EXPECT_GT(c.suppressed, 0);
}

TEST(ThreadQueues, TwoMillionRecordsUnderDropNewestAddUpExactly) {
  const auto c = log_two_million(sdk::OverflowPolicy::drop_newest, 0);
  EXPECT_GT(c.dropped, 0);  // 64 KiB queues and two producers outrun the logging thread
  EXPECT_GT(c.written, 0);
}

TEST(ThreadQueues, QueuesOfExitedThreadsAreReleasedOnceDrained) {
  EngineUnderTest t;
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i)
    threads.emplace_back([&, i] { t.engine->logger("short").info("lived", {{"i", i}}); });
  for (auto& th : threads) th.join();
  EXPECT_EQ(t.drain().size(), 20u);
  EXPECT_EQ(t.engine->thread_queues(), 0u);
  // A thread that is still alive keeps its queue.
  std::mutex mu;
  std::condition_variable cv;
  bool logged = false, release = false;
  std::thread alive([&] {
    t.engine->logger("long").info("still here");
    std::unique_lock lock(mu);
    logged = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return logged; });
  }
  EXPECT_TRUE(t.engine->flush());
  EXPECT_EQ(t.engine->thread_queues(), 1u);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  alive.join();
  EXPECT_TRUE(t.engine->flush());
  EXPECT_EQ(t.engine->thread_queues(), 0u);
}

TEST(ThreadQueues, RecordsOfDifferentThreadsAreWrittenInTimestampOrder) {
  ManualClock clock;
  GateSink sink;
  logging::LogEngine engine(EngineUnderTest::quiet_options(), clock);
  engine.add_sink(&sink);
  engine.start();
  engine.logger("x").info("hold");
  sink.wait_entered();
  // Thread "late" logs first, with later timestamps; thread "early" logs afterwards with
  // earlier ones. Both wait in their queues while the logging thread is held.
  const std::int64_t base = clock.now_ms();
  auto log_at = [&](const char* name, const std::vector<std::int64_t>& offsets) {
    std::thread([&, name, offsets] {
      for (auto ms : offsets) {
        clock.set_ms(base + ms);
        engine.logger(name).info("at", {{"ms", ms}});
      }
    }).join();
  };
  log_at("late", {30, 40});
  log_at("early", {10, 20, 35});
  sink.open();
  ASSERT_TRUE(engine.flush(std::chrono::seconds(30)));
  std::vector<std::int64_t> order;
  for (const auto& r : sink.records())
    if (r.message == "at") order.push_back(r.extra.find("ms")->as_int());
  EXPECT_EQ(order, (std::vector<std::int64_t>{10, 20, 30, 35, 40}));
  engine.shutdown();
}

TEST(ThreadQueues, RecordLargerThanTheQueueIsWrittenWhole) {
  auto options = EngineUnderTest::quiet_options();
  options.queue.capacity.bytes = 4096;
  EngineUnderTest t(options);
  const std::string big(100'000, 'x');
  t.engine->logger("x").info("big", {{"payload", big}});
  t.engine->logger("x").info("small");
  const auto records = t.drain();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].extra.find("payload")->as_string(), big);
  EXPECT_EQ(records[1].message, "small");
}

}  // namespace
}  // namespace crosscut::testing
