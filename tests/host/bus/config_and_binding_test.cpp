// The `bus:` section parser and the binding of `handlers:` items to the bus.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "bus/async_event_bus.hpp"
#include "bus/handler_binding.hpp"
#include "bus_test_support.hpp"
#include "config/option_validator.hpp"
#include "crosscut/bus.hpp"
#include "support/test_host.hpp"

namespace crosscut {
namespace {

using bus_test::map;
using bus_test::scalar;
using bus_test::sequence;
using std::chrono_literals::operator""s;
using testing::config_error;

const auto kFile = std::make_shared<const std::string>("crosscut.yaml");

// What the runtime does with the section: validate against the table, then fill the struct.
BusOptions read_bus(sdk::ConfigNode node) {
  config::validate_options(node, bus_options_table().schema(), {kFile, "bus"});
  return read_bus_options(sdk::ConfigView(&node, kFile, "bus"));
}

TEST(BusConfig, ParsesEveryOption) {
  auto node = map({{"queue_size", scalar("128", 3, 15)},
                   {"overflow", scalar("drop_oldest", 4, 13)},
                   {"workers", scalar("3", 5, 12)},
                   {"idle_spin", scalar("50us", 6, 14)}},
                  3, 3);
  const BusOptions o = read_bus(node);
  EXPECT_EQ(o.queue_size, 128u);
  EXPECT_EQ(o.overflow, OverflowPolicy::drop_oldest);
  EXPECT_EQ(o.workers, 3u);
  EXPECT_EQ(o.idle_spin, std::chrono::microseconds(50));
}

TEST(BusConfig, DefaultsWhenAbsent) {
  auto node = map({}, 2, 1);
  const BusOptions o = read_bus(node);
  EXPECT_EQ(o.queue_size, BusOptions{}.queue_size);
  EXPECT_EQ(o.overflow, OverflowPolicy::block);
  EXPECT_EQ(o.workers, 1u);
  const auto& schema = bus_options_table().schema();
  ASSERT_EQ(schema.size(), 4u);
  EXPECT_EQ(o.idle_spin, std::chrono::microseconds(200));
  EXPECT_EQ(schema[1].key, "overflow");
  EXPECT_EQ(schema[1].choices.size(), 3u);
}

TEST(BusConfig, BadValuesNameFileLineColumnAndKey) {
  auto bad_policy = map({{"overflow", scalar("drop_all", 7, 13)}}, 6, 3);
  EXPECT_EQ(config_error([&] { read_bus(bad_policy); }),
            "crosscut.yaml:7:13: bus.overflow: 'drop_all' is not one of: block, drop_newest, "
            "drop_oldest");
  auto bad_workers = map({{"workers", scalar("0", 8, 12)}}, 6, 3);
  EXPECT_EQ(config_error([&] { read_bus(bad_workers); }),
            "crosscut.yaml:8:12: bus.workers: must be between 1 and 64 (got 0)");
  auto long_spin = map({{"idle_spin", scalar("2s", 9, 14)}}, 6, 3);
  EXPECT_EQ(config_error([&] { read_bus(long_spin); }),
            "crosscut.yaml:9:14: bus.idle_spin: must be at most 1s");
}

class RecordingHandler : public sdk::EventHandler {
 public:
  void handle(const sdk::EventRef& event) override {
    std::lock_guard lock(mu);
    names.emplace_back(event.name);
  }
  std::mutex mu;
  std::vector<std::string> names;
};

sdk::ConfigNode handler_item(std::vector<sdk::ConfigNode> on) {
  return map({{"type", scalar("recorder", 10, 11)}, {"on", sequence(std::move(on), 10, 25)}}, 10,
             5);
}

TEST(HandlerBinding, SubscribesToEachListedEvent) {
  testing::CapturingLogger log("bus");
  AsyncEventBus bus({}, log);
  EventNames names;
  auto item = handler_item(
      {scalar("error", 10, 26), scalar("breaker_transition", 10, 33), scalar("error", 10, 53)});
  const auto events = handler_events(sdk::ConfigView(&item, kFile, "handlers[0]"), names);
  ASSERT_EQ(events.size(), 2u);
  RecordingHandler handler;
  auto subs = bind_handler(bus, handler, events);
  bus.emit(sdk::ErrorEvent{});
  bus.emit(sdk::ProfileSample{});
  bus.emit(sdk::BreakerTransition{});
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_EQ(handler.names, (std::vector<std::string>{"error", "breaker_transition"}));
  subs.clear();
  bus.emit(sdk::ErrorEvent{});
  ASSERT_TRUE(bus.drain(30s));
  EXPECT_EQ(handler.names.size(), 2u);
}

TEST(HandlerBinding, UnknownEventIsAConfigErrorAtThatElement) {
  EventNames names;
  auto item = handler_item({scalar("error", 10, 26), scalar("breaker_transitions", 10, 33)});
  EXPECT_EQ(
      config_error([&] { handler_events(sdk::ConfigView(&item, kFile, "handlers[0]"), names); }),
      "crosscut.yaml:10:33: handlers[0].on[1]: unknown event 'breaker_transitions' (did you "
      "mean 'breaker_transition'?); known events: error, breaker_transition, metrics_batch, "
      "profile_sample");
  auto missing = map({{"type", scalar("recorder", 12, 11)}}, 12, 5);
  EXPECT_NE(config_error([&] {
              handler_events(sdk::ConfigView(&missing, kFile, "handlers[1]"), names);
            }).find("crosscut.yaml:12:5: handlers[1].on: missing"),
            std::string::npos);
  auto empty = handler_item({});
  EXPECT_NE(config_error([&] {
              handler_events(sdk::ConfigView(&empty, kFile, "handlers[2]"), names);
            }).find("crosscut.yaml:10:25: handlers[2].on: empty"),
            std::string::npos);
}

TEST(HandlerBinding, RuntimeCanRegisterMoreEventNames) {
  EventNames names;
  auto item = handler_item({scalar("agent_input_error", 10, 26)});
  const sdk::ConfigView view(&item, kFile, "handlers[0]");
  EXPECT_NE(config_error([&] { handler_events(view, names); }), "(no error)");
  names.add("agent_input_error");
  const auto events = handler_events(view, names);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], "agent_input_error");
}

TEST(HandlerBinding, SchemaDeclaresTypeOnAndOptions) {
  const sdk::OptionSpec spec = handlers_schema();
  EXPECT_EQ(spec.key, "handlers");
  EXPECT_EQ(spec.type, sdk::OptionType::object_list);
  ASSERT_EQ(spec.children.size(), 3u);
  EXPECT_TRUE(spec.children[0].required);
  EXPECT_EQ(spec.children[1].type, sdk::OptionType::string_list);
  EXPECT_EQ(spec.children[2].type, sdk::OptionType::any);
}

}  // namespace
}  // namespace crosscut
