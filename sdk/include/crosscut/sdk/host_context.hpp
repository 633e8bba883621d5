// HostContext: the host services a component may use. Given to every factory.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/bus.hpp"
#include "crosscut/sdk/events.hpp"
#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/record_sink.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// Wall-clock time; tests and simulators substitute a manual clock. Thread-safe.
class CROSSCUT_SDK_API Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const noexcept = 0;
};

// Implemented by the host. Every member is thread-safe. References returned here stay valid
// for as long as the component that received the context lives (the host outlives its
// components).
class CROSSCUT_SDK_API HostContext {
 public:
  virtual ~HostContext() = default;

  virtual Logger& logger(std::string_view name, std::string_view category = "app") = 0;
  virtual EventBus& bus() = 0;
  virtual const Clock& clock() const = 0;
  // A record sink declared under `sinks:`, or nullptr when there is none of that name.
  // Sinks are built before every other kind of component.
  virtual RecordSink* record_sink(std::string_view name) = 0;
  // Hands an error to the error dispatcher (rules, breaker, publication).
  virtual void report_error(ErrorEvent error) = 0;
  // Adds to a named counter reported in the periodic health record.
  virtual void add_metric(std::string_view name, std::int64_t delta) = 0;
  virtual std::string_view service_name() const = 0;
};

CROSSCUT_SDK_END_NAMESPACE
