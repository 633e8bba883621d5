// What a bounded queue does when it is full: one vocabulary for the bus, logging and sinks.
// Each option that takes a policy lists the spellings it accepts (a sink's "drop" is
// drop_newest), but they all mean the values below.
#pragma once

#include <cstdint>
#include <string_view>

#include "crosscut/sdk/abi.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

enum class OverflowPolicy : std::uint8_t {
  block,        // wait for space (up to a limit where the option says so)
  drop_newest,  // refuse the new item, counted
  drop_oldest,  // discard the oldest queued item, counted, then enqueue
};

constexpr std::string_view overflow_policy_name(OverflowPolicy p) noexcept {
  switch (p) {
    case OverflowPolicy::block:
      return "block";
    case OverflowPolicy::drop_newest:
      return "drop_newest";
    case OverflowPolicy::drop_oldest:
      return "drop_oldest";
  }
  return "unknown";
}

CROSSCUT_SDK_END_NAMESPACE
