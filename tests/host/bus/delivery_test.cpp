// Delivery semantics of AsyncEventBus: subscription order, per-thread FIFO, handler
// isolation, typed and named subscription, context propagation.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bus/async_event_bus.hpp"
#include "bus_test_support.hpp"
#include "crosscut/log_context.hpp"
#include "support/test_host.hpp"

namespace crosscut {
namespace {

using bus_test::Tick;
using bus_test::Tock;
using std::chrono_literals::operator""s;

TEST(BusDelivery, HandlersRunInSubscriptionOrderForEveryEvent) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({.queue_size = 1024, .overflow = OverflowPolicy::block, .workers = 2}, log);
  std::mutex mu;
  std::vector<std::pair<int, int>> calls;  // (handler, seq)
  std::vector<sdk::Subscription> subs;
  for (int h = 0; h < 4; ++h)
    subs.push_back(bus.on<Tick>([&, h](const Tick& t) {
      std::lock_guard lock(mu);
      calls.emplace_back(h, t.seq);
    }));
  for (int i = 0; i < 100; ++i) bus.emit(Tick{0, i});
  ASSERT_TRUE(bus.drain(30s));
  ASSERT_EQ(calls.size(), 400u);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].first, static_cast<int>(i % 4)) << "call " << i;
    EXPECT_EQ(calls[i].second, static_cast<int>(i / 4)) << "call " << i;
  }
}

TEST(BusDelivery, EachEmittingThreadsEventsArriveInOrder) {
  for (std::size_t workers : {1u, 3u}) {
    testing::CapturingLogger log("bus");
    AsyncEventBus bus({.queue_size = 256, .overflow = OverflowPolicy::block, .workers = workers},
                      log);
    constexpr int kEmitters = 6;
    constexpr int kPerEmitter = 5000;
    std::mutex mu;
    std::map<int, std::vector<int>> seen;
    auto sub = bus.on<Tick>([&](const Tick& t) {
      std::lock_guard lock(mu);
      seen[t.emitter].push_back(t.seq);
    });
    std::vector<std::thread> emitters;
    for (int e = 0; e < kEmitters; ++e)
      emitters.emplace_back([&bus, e] {
        for (int i = 0; i < kPerEmitter; ++i) bus.emit(Tick{e, i});
      });
    for (auto& t : emitters) t.join();
    ASSERT_TRUE(bus.drain(60s));
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(kEmitters));
    for (auto& [emitter, seqs] : seen) {
      ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kPerEmitter)) << "emitter " << emitter;
      for (int i = 0; i < kPerEmitter; ++i)
        ASSERT_EQ(seqs[i], i) << "emitter " << emitter << " workers " << workers;
    }
    EXPECT_EQ(bus.stats().published, static_cast<std::uint64_t>(kEmitters * kPerEmitter));
    EXPECT_EQ(bus.stats().dropped, 0u);
  }
}

TEST(BusDelivery, ThrowingHandlerIsLoggedCountedAndDoesNotStopOthers) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({}, log);
  std::atomic<int> before{0}, after{0};
  auto a = bus.on<Tick>([&](const Tick&) { ++before; });
  auto b = bus.on<Tick>([&](const Tick& t) {
    if (t.seq % 2 == 0) throw std::runtime_error("handler exploded");
    if (t.seq == 3) throw 42;  // not a std::exception
  });
  auto c = bus.on<Tick>([&](const Tick&) { ++after; });
  for (int i = 0; i < 10; ++i) bus.emit(Tick{0, i});
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_EQ(before.load(), 10);
  EXPECT_EQ(after.load(), 10);
  const BusStats stats = bus.stats();
  EXPECT_EQ(stats.handler_failures, 6u);
  EXPECT_EQ(stats.delivered, 24u);
  int logged = 0;
  for (const auto& r : log.records())
    if (r.level == sdk::Level::error) ++logged;
  EXPECT_EQ(logged, 6);
}

TEST(BusDelivery, TypedAndNamedSubscriptionsSeeOnlyTheirEvents) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({}, log);
  std::atomic<int> ticks{0}, tock_sum{0}, named{0};
  auto a = bus.on<Tick>([&](const Tick&) { ++ticks; });
  auto b = bus.on<Tock>([&](const Tock& t) { tock_sum += t.value; });
  auto c = bus.subscribe("tock", [&](const sdk::EventRef& e) {
    EXPECT_EQ(e.name, "tock");
    EXPECT_EQ(e.as<Tick>(), nullptr);
    ASSERT_NE(e.as<Tock>(), nullptr);
    named += e.as<Tock>()->value;
  });
  bus.emit(Tick{});
  bus.emit(Tock{5});
  bus.emit(Tock{7});
  bus.publish("nobody_listens", std::make_shared<const int>(1));
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_EQ(ticks.load(), 1);
  EXPECT_EQ(tock_sum.load(), 12);
  EXPECT_EQ(named.load(), 12);
  EXPECT_EQ(bus.stats().published, 4u);
}

TEST(BusDelivery, HandlersRunWithTheEmittersLoggingContext) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({.queue_size = 64, .overflow = OverflowPolicy::block, .workers = 2}, log);
  std::mutex mu;
  std::map<int, std::string> correlation;
  std::map<int, std::string> event_name;
  auto sub = bus.on<Tick>([&](const Tick& t) {
    std::lock_guard lock(mu);
    correlation[t.seq] = current_correlation_id();
    event_name[t.seq] = std::string(current_bus_event());
  });
  {
    ContextScope scope(sdk::Value::Object{{"correlation_id", "corr-1"}});
    bus.emit(Tick{0, 1});
    ContextScope inner(sdk::Value::Object{{"correlation_id", "corr-2"}});
    bus.emit(Tick{0, 2});
  }
  bus.emit(Tick{0, 3});
  std::thread other([&] {
    ContextScope scope(sdk::Value::Object{{"correlation_id", "corr-4"}});
    bus.emit(Tick{1, 4});
  });
  other.join();
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_EQ(correlation[1], "corr-1");
  EXPECT_EQ(correlation[2], "corr-2");
  EXPECT_EQ(correlation[3], "");
  EXPECT_EQ(correlation[4], "corr-4");
  EXPECT_EQ(event_name[1], "tick");
  EXPECT_EQ(current_bus_event(), "");
}

TEST(BusDelivery, HandlerMayEmitFurtherEvents) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({}, log);
  std::atomic<int> tocks{0};
  auto a = bus.on<Tick>([&](const Tick& t) { bus.emit(Tock{t.seq}); });
  auto b = bus.on<Tock>([&](const Tock&) { ++tocks; });
  for (int i = 0; i < 50; ++i) bus.emit(Tick{0, i});
  // The first drain covers the ticks; the tocks they emitted are queued before the second.
  ASSERT_TRUE(bus.drain(30s));
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_EQ(tocks.load(), 50);
}

TEST(BusDelivery, DestroyingTheBusHandlesWhatIsQueued) {
  testing::CapturingLogger log("bus");
  std::atomic<int> handled{0};
  sdk::Subscription sub;
  {
    AsyncEventBus bus({}, log);
    sub = bus.on<Tick>([&](const Tick&) { ++handled; });
    for (int i = 0; i < 1000; ++i) bus.emit(Tick{0, i});
  }
  EXPECT_EQ(handled.load(), 1000);
  sub.reset();  // the bus is gone: does nothing
  EXPECT_FALSE(sub.active());
}

}  // namespace
}  // namespace crosscut
