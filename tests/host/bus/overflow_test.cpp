// Bounded queue behaviour: each overflow policy, and drain() with and without room to finish.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/async_event_bus.hpp"
#include "bus_test_support.hpp"
#include "support/test_host.hpp"

namespace crosscut {
namespace {

using bus_test::Gate;
using bus_test::Tick;
using std::chrono_literals::operator""s;
using std::chrono_literals::operator""ms;

// One worker, a queue of 4: event 0 holds the worker at the gate, events 1..4 fill the queue.
struct FullQueue {
  explicit FullQueue(OverflowPolicy policy)
      : bus({.queue_size = 4, .overflow = policy, .workers = 1}, log) {
    sub = bus.on<Tick>([this](const Tick& t) {
      if (t.seq == 0) gate.wait();
      std::lock_guard lock(mu);
      seen.push_back(t.seq);
    });
    bus.emit(Tick{0, 0});
    gate.wait_until_entered();
    for (int i = 1; i <= 4; ++i) bus.emit(Tick{0, i});
  }
  std::vector<int> received() {
    std::lock_guard lock(mu);
    return seen;
  }

  testing::CapturingLogger log{"bus"};
  AsyncEventBus bus;
  Gate gate;
  std::mutex mu;
  std::vector<int> seen;
  sdk::Subscription sub;
};

TEST(BusOverflow, DropNewestRefusesTheNewEventsAndCountsThem) {
  FullQueue f(OverflowPolicy::drop_newest);
  f.bus.emit(Tick{0, 5});
  f.bus.emit(Tick{0, 6});
  EXPECT_EQ(f.bus.stats().dropped, 2u);
  f.gate.open();
  ASSERT_TRUE(f.bus.drain(30s));
  EXPECT_EQ(f.received(), (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(BusOverflow, DropOldestDiscardsTheOldestQueuedEvents) {
  FullQueue f(OverflowPolicy::drop_oldest);
  f.bus.emit(Tick{0, 5});
  f.bus.emit(Tick{0, 6});
  EXPECT_EQ(f.bus.stats().dropped, 2u);
  f.gate.open();
  ASSERT_TRUE(f.bus.drain(30s));
  EXPECT_EQ(f.received(), (std::vector<int>{0, 3, 4, 5, 6}));
}

TEST(BusOverflow, DropsAreReportedInALogRecord) {
  FullQueue f(OverflowPolicy::drop_newest);
  for (int i = 5; i < 10; ++i) f.bus.emit(Tick{0, i});
  f.gate.open();
  ASSERT_TRUE(f.bus.drain(30s));
  bool reported = false;
  for (const auto& r : f.log.records())
    if (r.level == sdk::Level::warning && r.message.find("dropped") != std::string::npos)
      reported = true;
  EXPECT_TRUE(reported);
  EXPECT_EQ(f.bus.stats().dropped, 5u);
}

TEST(BusOverflow, BlockWaitsForRoomAndLosesNothing) {
  FullQueue f(OverflowPolicy::block);
  std::size_t seen_when_returned = 0;
  std::thread blocked([&] {
    f.bus.emit(Tick{0, 5});
    // Room appears only after the worker finished event 0 and took event 1.
    seen_when_returned = f.received().size();
  });
  f.gate.open();
  blocked.join();
  ASSERT_TRUE(f.bus.drain(30s));
  EXPECT_GE(seen_when_returned, 1u);
  EXPECT_EQ(f.received(), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(f.bus.stats().dropped, 0u);
}

TEST(BusOverflow, BlockManyEmittersThroughATinyQueueDeliversEverything) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({.queue_size = 2, .overflow = OverflowPolicy::block, .workers = 2}, log);
  std::atomic<int> handled{0};
  auto sub = bus.on<Tick>([&](const Tick&) { ++handled; });
  std::vector<std::thread> emitters;
  for (int e = 0; e < 4; ++e)
    emitters.emplace_back([&bus, e] {
      for (int i = 0; i < 2000; ++i) bus.emit(Tick{e, i});
    });
  for (auto& t : emitters) t.join();
  ASSERT_TRUE(bus.drain(60s));
  EXPECT_EQ(handled.load(), 8000);
  EXPECT_EQ(bus.stats().dropped, 0u);
}

TEST(BusOverflow, WorkerEmittingIntoItsOwnFullQueueDropsInsteadOfDeadlocking) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({.queue_size = 2, .overflow = OverflowPolicy::block, .workers = 1}, log);
  std::atomic<int> handled{0};
  auto sub = bus.on<Tick>([&](const Tick& t) {
    ++handled;
    if (t.seq == 0)
      for (int i = 1; i <= 10; ++i) bus.emit(Tick{0, i});
  });
  bus.emit(Tick{0, 0});
  ASSERT_TRUE(bus.drain(30s));
  ASSERT_TRUE(bus.drain(30s));
  const BusStats s = bus.stats();
  EXPECT_EQ(s.dropped, 8u);  // room for two
  EXPECT_EQ(handled.load(), 3);
}

TEST(BusDrain, TimesOutWhileAHandlerIsStuckThenSucceeds) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({}, log);
  Gate gate;
  std::atomic<int> handled{0};
  auto sub = bus.on<Tick>([&](const Tick&) {
    gate.wait();
    ++handled;
  });
  bus.emit(Tick{});
  bus.emit(Tick{});
  gate.wait_until_entered();
  EXPECT_FALSE(bus.drain(20ms));
  gate.open();
  EXPECT_TRUE(bus.drain(30s));
  EXPECT_EQ(handled.load(), 2);
}

TEST(BusDrain, FromInsideAHandlerReturnsFalseInsteadOfWaitingForItself) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({}, log);
  std::atomic<int> result{-1};
  auto sub = bus.on<Tick>([&](const Tick&) { result = bus.drain(30s) ? 1 : 0; });
  bus.emit(Tick{});
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_EQ(result.load(), 0);
}

TEST(BusDrain, EmptyBusDrainsAtOnce) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({.queue_size = 8, .overflow = OverflowPolicy::block, .workers = 4}, log);
  EXPECT_TRUE(bus.drain(0ms));
}

}  // namespace
}  // namespace crosscut
