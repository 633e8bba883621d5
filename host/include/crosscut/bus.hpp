// The event bus as the runtime exposes it: its totals and the event being handled.
#pragma once

#include <cstdint>
#include <string_view>

#include "crosscut/export.hpp"
#include "crosscut/sdk/bus.hpp"

namespace crosscut {

struct BusStats {
  std::uint64_t published = 0;         // accepted into a queue
  std::uint64_t dropped = 0;           // refused or discarded by the overflow policy, or after stop
  std::uint64_t delivered = 0;         // handler invocations that returned normally
  std::uint64_t handler_failures = 0;  // handler invocations that threw
};

// The name of the event whose handlers the calling thread is running, or "" outside a bus
// handler. Lets the error dispatcher refuse to feed errors raised by `error` handlers back
// onto the bus.
CROSSCUT_API std::string_view current_bus_event() noexcept;

}  // namespace crosscut
