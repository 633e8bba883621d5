// The `record` log sink: each log record's JSON line published to a record sink (e.g. Kafka).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/record_sink.hpp"
#include "record_log_options.hpp"

namespace crosscut::record_log {

// Called by the host's logging thread only (as every sdk::LogSink).
//
// Each record becomes Record{topic, key = logger name, payload = the JSON line}. Loops are
// cut three ways: records of the loggers listed in `exclude_loggers` (by default the Kafka
// sink's own) are not forwarded; a record logged while this sink is publishing on the same
// thread is not forwarded; and records go out with RecordOrigin::error_report, so a sink
// that cannot deliver them logs and counts the failure instead of raising errors that would
// be logged and published again. A refused record is counted in failures().
//
// flush() does not wait for the record sink: the runtime flushes record sinks itself at
// shutdown, after the logging engine (and must destroy this sink before the record sink).
class RecordLogSink final : public sdk::LogSink {
 public:
  RecordLogSink(sdk::RecordSink& sink, std::string topic, std::vector<std::string> exclude_loggers);
  // From options: a `sink` naming no record sink under `sinks:`, or an empty `topic`, is a
  // ConfigError at that option.
  static const sdk::OptionTable<RecordLogOptions>& options_table() { return record_log_options(); }
  static void check_options(const RecordLogOptions& options, const sdk::ConfigView& view,
                            sdk::HostContext& host);
  RecordLogSink(const RecordLogOptions& options, sdk::HostContext& host);

  void write(const sdk::LogRecord& record) noexcept override;
  void flush() noexcept override {}
  std::uint64_t failures() const noexcept override {
    return failures_.load(std::memory_order_relaxed);
  }

  // Records not forwarded because of their logger or because they were logged re-entrantly.
  std::uint64_t skipped() const noexcept { return skipped_.load(std::memory_order_relaxed); }

 private:
  sdk::RecordSink& sink_;
  const std::string topic_;
  const std::vector<std::string> exclude_loggers_;
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> skipped_{0};
};

}  // namespace crosscut::record_log
