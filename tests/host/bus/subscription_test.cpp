// Unsubscribe semantics: after reset() returns the handler is not running and never runs
// again; a handler may cancel itself; subscriptions may outlive the bus.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "bus/async_event_bus.hpp"
#include "bus_test_support.hpp"
#include "support/test_host.hpp"

namespace crosscut {
namespace {

using bus_test::Gate;
using bus_test::Tick;
using std::chrono_literals::operator""s;

TEST(BusSubscription, ResetWaitsForARunningHandlerToFinish) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({}, log);
  Gate gate;
  std::atomic<bool> finished{false};
  std::atomic<int> calls{0};
  auto sub = bus.on<Tick>([&](const Tick&) {
    ++calls;
    gate.wait();
    finished = true;
  });
  bus.emit(Tick{0, 0});
  gate.wait_until_entered();
  bool finished_when_reset_returned = false;
  std::thread canceller([&] {
    sub.reset();
    finished_when_reset_returned = finished.load();
  });
  gate.open();
  canceller.join();
  EXPECT_TRUE(finished_when_reset_returned);
  for (int i = 1; i < 100; ++i) bus.emit(Tick{0, i});
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_FALSE(sub.active());
}

TEST(BusSubscription, QueuedEventsAreNotDeliveredAfterReset) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({}, log);
  Gate gate;
  std::atomic<int> first{0}, second{0};
  auto blocker = bus.on<Tick>([&](const Tick& t) {
    if (t.seq == 0) gate.wait();
    ++first;
  });
  auto counted = bus.on<Tick>([&](const Tick&) { ++second; });
  bus.emit(Tick{0, 0});
  gate.wait_until_entered();
  for (int i = 1; i <= 10; ++i) bus.emit(Tick{0, i});
  counted.reset();  // `counted` is not running (the worker is inside `blocker`)
  gate.open();
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_EQ(first.load(), 11);
  EXPECT_EQ(second.load(), 0);
}

TEST(BusSubscription, HandlerCanCancelItselfWithoutDeadlock) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({}, log);
  std::atomic<int> calls{0};
  sdk::Subscription sub;
  std::mutex mu;
  {
    std::lock_guard lock(mu);
    sub = bus.on<Tick>([&](const Tick&) {
      ++calls;
      std::lock_guard lock(mu);
      sub.reset();
    });
  }
  for (int i = 0; i < 20; ++i) bus.emit(Tick{0, i});
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_EQ(calls.load(), 1);
}

TEST(BusSubscription, ResetReleasesTheHandlersCaptures) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({}, log);
  auto token = std::make_shared<int>(7);
  std::weak_ptr<int> weak = token;
  auto sub = bus.on<Tick>([token = std::move(token)](const Tick&) {});
  bus.emit(Tick{});
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_FALSE(weak.expired());
  sub.reset();
  EXPECT_TRUE(weak.expired());
}

TEST(BusSubscription, ConcurrentSubscribeUnsubscribeWhileEmitting) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({.queue_size = 1024, .overflow = OverflowPolicy::block, .workers = 2}, log);
  std::atomic<bool> stop{false};
  std::atomic<long> calls{0};
  auto keep = bus.on<Tick>([&](const Tick&) { ++calls; });
  std::thread emitter([&] {
    for (int i = 0; i < 20000; ++i) bus.emit(Tick{0, i});
    stop = true;
  });
  int cycles = 0;
  while (!stop.load()) {
    std::atomic<bool> alive{true};
    auto sub = bus.on<Tick>([&alive](const Tick&) { EXPECT_TRUE(alive.load()); });
    sub.reset();
    alive = false;  // must never be observed by the handler: reset() waited for it
    ++cycles;
  }
  emitter.join();
  ASSERT_TRUE(bus.drain(60s));
  EXPECT_EQ(calls.load(), 20000);
  EXPECT_GT(cycles, 0);
}

}  // namespace
}  // namespace crosscut
