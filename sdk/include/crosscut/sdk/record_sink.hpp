// Record sinks: where error DTOs, metric batches and (optionally) log lines are published.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/component.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// Where a record came from. A sink reports permanent delivery failures as `kafka_producer`
// (or similar) errors, except for records that are themselves error reports: those failures
// are logged and counted only, so a failing sink cannot feed the error dispatcher in a loop.
enum class RecordOrigin : std::uint8_t { data, error_report };

struct Record {
  std::string topic;
  std::string key;
  std::string payload;  // a JSON document
  std::vector<std::pair<std::string, std::string>> headers;
  RecordOrigin origin = RecordOrigin::data;
};

struct DeliveryStats {
  std::uint64_t published = 0;  // accepted by publish()
  std::uint64_t delivered = 0;  // confirmed written / acknowledged
  std::uint64_t failed = 0;     // permanently failed
  std::uint64_t dropped = 0;    // refused by publish() (queue full under a drop policy)
};

// A record destination (component kind `record_sink`).
//
// Thread-safety: publish() and stats() may be called from any thread concurrently; flush()
// from any one thread. publish() never blocks on I/O (it may wait for queue space up to a
// configured limit) and returns false when the record was refused; the refusal is counted
// in `dropped`. flush() waits until every accepted record is delivered or failed, or the
// deadline passes, and returns true only when nothing is left outstanding.
class CROSSCUT_SDK_API RecordSink : public Component {
 public:
  virtual bool publish(Record record) = 0;
  virtual bool flush(std::chrono::steady_clock::time_point deadline) = 0;
  virtual DeliveryStats stats() const = 0;
};

CROSSCUT_SDK_END_NAMESPACE
