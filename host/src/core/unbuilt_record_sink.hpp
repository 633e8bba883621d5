// The record sink a name under `sinks:` stands for while sinks are not built (the check pass of
// every runtime, and the scopes that build no sinks): lookups by name succeed, so components
// that name a sink can be checked, but nothing can be published.
#pragma once

#include "crosscut/sdk/record_sink.hpp"

namespace crosscut::core {

// Thread-safe. Refuses (and counts) every record; flush() has nothing to wait for.
class UnbuiltRecordSink final : public sdk::CountingRecordSink {
 public:
  bool publish(sdk::Record) override {
    count_dropped();
    return false;
  }
  bool flush(std::chrono::steady_clock::time_point) override { return true; }
};

}  // namespace crosscut::core
