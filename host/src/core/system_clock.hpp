#pragma once

#include "crosscut/sdk/host_context.hpp"

namespace crosscut::core {

class SystemClock : public sdk::Clock {
 public:
  std::chrono::system_clock::time_point now() const noexcept override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace crosscut::core
