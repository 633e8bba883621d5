#include <string>

#include "crosscut/bus.hpp"

namespace crosscut {

namespace {
constexpr std::int64_t kMaxWorkers = 64;
constexpr std::int64_t kMaxQueueSize = std::int64_t{1} << 24;

}  // namespace

sdk::ConfigSchema bus_schema() {
  sdk::ConfigSchema schema;
  auto queue_size = sdk::option("queue_size", sdk::OptionType::integer, "65536",
                                "events each worker queue holds (rounded up to a power of two)");
  queue_size.min = 1;
  auto overflow = sdk::option("overflow", sdk::OptionType::string, "block",
                              "when a queue is full: block, drop_newest or drop_oldest");
  overflow.choices = {"block", "drop_newest", "drop_oldest"};
  auto workers = sdk::option("workers", sdk::OptionType::integer, "1",
                             "bus worker threads; one emitting thread always uses the same worker, "
                             "so its events stay in order");
  workers.min = 1;
  schema.push_back(std::move(queue_size));
  schema.push_back(std::move(overflow));
  schema.push_back(std::move(workers));
  auto idle_spin =
      sdk::option("idle_spin", sdk::OptionType::duration, "200us",
                  "how long an idle worker polls before it sleeps (latency vs idle CPU)");
  schema.push_back(std::move(idle_spin));
  return schema;
}

BusOptions parse_bus_options(const sdk::ConfigView& bus) {
  BusOptions o;
  const std::int64_t queue_size = bus.get_int("queue_size", 65536);
  if (queue_size < 1 || queue_size > kMaxQueueSize)
    bus.fail("queue_size", "must be between 1 and " + std::to_string(kMaxQueueSize) + ", got " +
                               std::to_string(queue_size));
  o.queue_size = static_cast<std::size_t>(queue_size);

  const std::string overflow = bus.get_string("overflow", "block");
  if (overflow == "block")
    o.overflow = OverflowPolicy::block;
  else if (overflow == "drop_newest")
    o.overflow = OverflowPolicy::drop_newest;
  else if (overflow == "drop_oldest")
    o.overflow = OverflowPolicy::drop_oldest;
  else
    bus.fail("overflow",
             "unknown policy '" + overflow + "' (use block, drop_newest or drop_oldest)");

  const std::int64_t workers = bus.get_int("workers", 1);
  if (workers < 1 || workers > kMaxWorkers)
    bus.fail("workers", "must be between 1 and " + std::to_string(kMaxWorkers) + ", got " +
                            std::to_string(workers));
  o.workers = static_cast<std::size_t>(workers);

  const auto idle_spin = bus.get_duration("idle_spin", std::chrono::microseconds(200));
  if (idle_spin < std::chrono::nanoseconds(0) || idle_spin > std::chrono::seconds(1))
    bus.fail("idle_spin", "must be between 0 and 1s");
  o.idle_spin = std::chrono::duration_cast<std::chrono::microseconds>(idle_spin);
  return o;
}

}  // namespace crosscut
