// The `metrics` section of the configuration: its schema and its typed form.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "crosscut/sdk/options.hpp"

namespace crosscut::metrics {

struct MetricsOptions {
  // Name of a record sink under `sinks:`; empty: batches are not published. The runtime
  // resolves the name and hands the service the sink (or nullptr).
  std::string sink;
  std::string topic = "ws.metrics";
  std::chrono::nanoseconds flush_interval = std::chrono::seconds(60);
  // A minute is published once it ended more than `grace` ago (late messages still count).
  std::chrono::nanoseconds grace = std::chrono::seconds(2);
  // Minutes starting more than `horizon` after now (bogus event times) are published at the
  // next flush instead of being held until their time comes.
  std::chrono::nanoseconds horizon = std::chrono::minutes(10);
  // Bytes of batches the sink refused, kept for the next attempt; beyond this the oldest are
  // dropped (counted and logged). A sink's delivery queue refuses only when it is closed or
  // its spool cannot be written, so this holds batches through such moments only.
  sdk::ByteSize max_buffered_bytes{64ULL << 20};
  // Consecutive flushes the sink refused before an error is raised.
  std::size_t failure_threshold = 3;
  // A counter created by MetricsService::count() (targets named by input) is released by the
  // first flush that finds every minute it counted published and no count for this long.
  std::chrono::nanoseconds idle_release_after = std::chrono::minutes(2);
};

// The `metrics` section (defaults as above).
const sdk::OptionTable<MetricsOptions>& metrics_options_table();

// Reads a `metrics` section already validated against the table. Throws sdk::ConfigError
// (through ConfigView::fail) for what the table cannot express (an empty topic).
MetricsOptions parse_metrics_options(const sdk::ConfigView& view);

}  // namespace crosscut::metrics
