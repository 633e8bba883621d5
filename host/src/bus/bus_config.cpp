#include "bus/async_event_bus.hpp"

namespace crosscut {

const sdk::OptionTable<BusOptions>& bus_options_table() {
  using sdk::bind_option;
  static const sdk::OptionTable<BusOptions> table{
      bind_option("queue_size", &BusOptions::queue_size,
                  "events each worker queue holds (rounded up to a power of two)")
          .min(1)
          .max(std::int64_t{1} << 24),
      bind_option("overflow", &BusOptions::overflow,
                  "when a queue is full: block, drop_newest or drop_oldest")
          .choices({{"block", OverflowPolicy::block},
                    {"drop_newest", OverflowPolicy::drop_newest},
                    {"drop_oldest", OverflowPolicy::drop_oldest}}),
      bind_option("workers", &BusOptions::workers,
                  "bus worker threads; one emitting thread always uses the same worker, so its "
                  "events stay in order")
          .min(1)
          .max(64),
      bind_option("idle_spin", &BusOptions::idle_spin,
                  "how long an idle worker polls before it sleeps (latency vs idle CPU)"),
  };
  return table;
}

BusOptions read_bus_options(const sdk::ConfigView& bus) {
  BusOptions o = bus_options_table().read(bus);
  // A bound the table cannot state: a worker that spins for seconds is a misconfiguration.
  if (o.idle_spin > std::chrono::seconds(1)) bus.fail("idle_spin", "must be at most 1s");
  return o;
}

}  // namespace crosscut
