// DeliveryReport (crosscut/runtime.hpp): the shutdown summary of every record sink.
#include "crosscut/runtime.hpp"

namespace crosscut {

std::uint64_t DeliveryReport::lost() const {
  std::uint64_t n = 0;
  for (const auto& s : sinks) n += s.lost;
  return n;
}

std::uint64_t DeliveryReport::spooled() const {
  std::uint64_t n = 0;
  for (const auto& s : sinks) n += s.spooled;
  return n;
}

std::string DeliveryReport::summary() const {
  std::string causes;
  for (const auto& s : sinks) {
    if (s.lost == 0) continue;
    if (!causes.empty()) causes += "; ";
    causes += "sink " + s.sink + ": " + (s.reason.empty() ? "not delivered" : s.reason);
  }
  std::string out = std::to_string(lost()) + " records not delivered";
  if (!causes.empty()) out += " (" + causes + ")";
  return out + "; " + std::to_string(spooled()) + " spooled";
}

}  // namespace crosscut
