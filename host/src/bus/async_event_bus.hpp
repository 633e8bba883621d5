// AsyncEventBus: sdk::EventBus delivered asynchronously by a fixed set of worker threads, and
// the `bus:` section that configures it.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "crosscut/bus.hpp"
#include "crosscut/sdk/bus.hpp"
#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/options.hpp"
#include "crosscut/sdk/overflow.hpp"

namespace crosscut {

using sdk::OverflowPolicy;

struct BusOptions {
  std::size_t queue_size = 65536;  // events per worker queue, rounded up to a power of two
  // A bus worker emitting into its own full queue drops instead of blocking.
  OverflowPolicy overflow = OverflowPolicy::block;
  std::size_t workers = 1;
  // How long an idle worker keeps polling (half spinning, half yielding) before it sleeps.
  // Longer: lower emit latency after a pause; shorter: less CPU burnt while idle.
  std::chrono::microseconds idle_spin{200};
};

// The `bus:` section: queue_size, overflow, workers, idle_spin.
const sdk::OptionTable<BusOptions>& bus_options_table();
// Reads a validated `bus:` section; an idle_spin above 1s throws sdk::ConfigError.
BusOptions read_bus_options(const sdk::ConfigView& bus);

// Events are queued per emitting thread's worker (thread i of the process goes to worker
// i % workers), so one thread's events are handled in emission order; handlers of one event
// run in subscription order. publish() captures the caller's logging context
// (crosscut::current_context()) and handlers run with it installed.
//
// Drops are counted in stats() and reported on `log` as one warning naming how many were
// dropped: by the workers at most once a second, and by every drain() and the destructor.
//
// Lifetime: `log` must outlive the bus. Destroying the bus handles what is still queued, then
// joins the workers; publish() after that point drops (counted). Subscriptions may outlive
// the bus. drain() called from a handler of this bus returns false at once (it would wait
// for itself).
class AsyncEventBus final : public sdk::EventBus {
 public:
  AsyncEventBus(BusOptions options, sdk::Logger& log);
  ~AsyncEventBus() override;
  AsyncEventBus(const AsyncEventBus&) = delete;
  AsyncEventBus& operator=(const AsyncEventBus&) = delete;

  sdk::Subscription subscribe(std::string_view event_name, Handler handler) override;
  void publish(std::string_view event_name, std::shared_ptr<const void> event) override;
  bool drain(std::chrono::milliseconds timeout) override;

  BusStats stats() const;
  // Events queued and not yet handled, over every worker.
  std::uint64_t queue_depth() const;
  const BusOptions& options() const { return options_; }

  class Core;

 private:
  BusOptions options_;
  std::shared_ptr<Core> core_;
  std::vector<std::thread> workers_;
};

}  // namespace crosscut
