// The SDK's event types. Each has a stable `name`, so plugins in other shared libraries can
// subscribe by type or by name. Plain data: copy freely.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/breaker.hpp"
#include "crosscut/sdk/value.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// The connection an error or a count belongs to (seed: ConnectionTargetDTO).
struct Target {
  std::string exchange;
  std::string region;
  std::string request_type;

  // "exchange/region/request_type": the breaker key and the Kafka message key of errors.
  std::string resource_key() const { return exchange + "/" + region + "/" + request_type; }
  friend bool operator==(const Target&, const Target&) = default;
};

// An exception reduced to what is published: demangled type, message, nested causes.
struct ExceptionInfo {
  std::string type;
  std::string message;
  std::vector<ExceptionInfo> nested;
};

// Error kinds known out of the box (any other string is allowed too).
inline constexpr std::string_view known_error_kinds[] = {
    "ws_connection",        "ws_subscription",  "ws_heartbeat_timeout",
    "kafka_producer",       "kafka_consumer",   "avro_serialization",
    "avro_deserialization", "redis_connection", "unknown"};

struct ErrorEvent {
  static constexpr std::string_view name = "error";
  std::exception_ptr exception;  // may be null when only `info` is known (agent mode)
  ExceptionInfo info;            // filled from `exception` by the dispatcher when empty
  std::string kind = "unknown";
  Target target;
  Value context;  // an object, or null
  std::chrono::system_clock::time_point timestamp{};
  std::string correlation_id;
};

struct BreakerTransition {
  static constexpr std::string_view name = "breaker_transition";
  std::string key;
  BreakerState from = BreakerState::closed;
  BreakerState to = BreakerState::closed;
  std::chrono::system_clock::time_point at{};
  std::string reason;
};

struct MetricsBatchPublished {
  static constexpr std::string_view name = "metrics_batch";
  std::string key;  // region/exchange/request_type
  std::string topic;
  std::size_t items = 0;
  std::uint64_t total = 0;
  std::int64_t range_start_ts = 0;
  std::int64_t range_end_ts = 0;
};

struct ProfileSample {
  static constexpr std::string_view name = "profile_sample";
  std::string operation;
  std::chrono::nanoseconds duration{};
  std::int64_t rss_delta_bytes = 0;
  std::int64_t rss_bytes = 0;
};

CROSSCUT_SDK_END_NAMESPACE
