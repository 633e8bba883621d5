// The runtime's own metrics, named and described once: what `GET /metrics` serves besides the
// embedding application's.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crosscut/runtime.hpp"

namespace crosscut::admin {

// What one record sink did, as the figures of crosscut_sink_records_total.
struct SinkFigures {
  std::string sink;
  std::uint64_t published = 0;  // accepted by the sink's queue
  std::uint64_t delivered = 0;
  std::uint64_t failed = 0;   // failed for good, refused, or undelivered at shutdown
  std::uint64_t dropped = 0;  // removed by the queue's overflow policy
  std::uint64_t waiting = 0;
};

// Every figure the families report, read by the runtime in one go.
struct RuntimeFigures {
  std::vector<std::pair<std::string, std::uint64_t>> errors_by_kind;
  std::uint64_t errors_suppressed = 0;
  std::vector<SinkFigures> sinks;
  BreakerTransitions transitions;
  std::array<std::uint64_t, 3> breakers_in_state{};  // closed, open, half_open
  std::uint64_t metrics_increments = 0;              // in published batches
  std::uint64_t metrics_batches = 0;
  std::uint64_t counters_live = 0;
  std::array<std::uint64_t, 5> log_records{};  // debug..critical
  std::uint64_t log_suppressed = 0;
  std::uint64_t log_dropped = 0;
  std::uint64_t bus_queue_depth = 0;
  std::uint64_t bus_published = 0;
  std::uint64_t bus_dropped = 0;
  ReloadStats reloads;
  std::map<std::string, std::int64_t> components;  // HostContext::add_metric figures
};

std::vector<MetricFamily> runtime_metric_families(const RuntimeFigures& figures);

// process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds, ... of this
// process, from /proc.
std::vector<MetricFamily> process_metric_families();

}  // namespace crosscut::admin
