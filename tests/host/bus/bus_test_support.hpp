// Small synchronisation helpers for the bus tests: a gate a handler can wait at, and
// event types of our own.
#pragma once

#include <string_view>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/value.hpp"
#include "support/config_nodes.hpp"
#include "support/gate.hpp"

namespace crosscut::bus_test {

// Handlers wait at a closed gate until the test opens it.
using crosscut::testing::Gate;

struct Tick {
  static constexpr std::string_view name = "tick";
  int emitter = 0;
  int seq = 0;
};

struct Tock {
  static constexpr std::string_view name = "tock";
  int value = 0;
};

using testing::map;
using testing::scalar;
using testing::sequence;

}  // namespace crosscut::bus_test
