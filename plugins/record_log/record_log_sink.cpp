#include "record_log_sink.hpp"

#include <algorithm>
#include <utility>

namespace crosscut::record_log {
namespace {

sdk::RecordSink& named_sink(const sdk::ConfigView& options, sdk::HostContext& host) {
  const std::string name = options.get_string("sink");
  if (name.empty()) options.fail("sink", "the name of a record sink under `sinks:` is required");
  sdk::RecordSink* sink = host.record_sink(name);
  if (sink == nullptr) options.fail("sink", "no record sink named '" + name + "' under `sinks:`");
  return *sink;
}

}  // namespace

RecordLogSink::RecordLogSink(sdk::RecordSink& sink, std::string topic,
                             std::vector<std::string> exclude_loggers)
    : sink_(sink), topic_(std::move(topic)), exclude_loggers_(std::move(exclude_loggers)) {}

RecordLogSink::RecordLogSink(const sdk::ConfigView& options, sdk::HostContext& host)
    : RecordLogSink(named_sink(options, host), options.get_string("topic", "logs"),
                    options.has("exclude_loggers") ? options.get_string_list("exclude_loggers")
                                                   : std::vector<std::string>{"kafka_sink"}) {
  if (topic_.empty()) options.fail("topic", "a topic name is required");
}

void RecordLogSink::write(const sdk::LogRecord& record) noexcept {
  thread_local bool publishing = false;
  if (publishing || std::find(exclude_loggers_.begin(), exclude_loggers_.end(), record.logger) !=
                        exclude_loggers_.end()) {
    skipped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  publishing = true;
  try {
    sdk::Record r;
    r.topic = topic_;
    r.key.assign(record.logger);
    r.payload.assign(record.json);
    r.origin = sdk::RecordOrigin::error_report;
    if (!sink_.publish(std::move(r))) failures_.fetch_add(1, std::memory_order_relaxed);
  } catch (...) {  // write() must not throw (e.g. bad_alloc)
    failures_.fetch_add(1, std::memory_order_relaxed);
  }
  publishing = false;
}

sdk::ConfigSchema record_log_schema() {
  return {
      {.key = "sink",
       .type = sdk::OptionType::string,
       .description = "name of the record sink (under `sinks:`) the log lines are published to",
       .required = true},
      {.key = "topic",
       .type = sdk::OptionType::string,
       .default_value = "logs",
       .description = "topic of the published log lines (key: the logger name)"},
      {.key = "exclude_loggers",
       .type = sdk::OptionType::string_list,
       .default_value = "[kafka_sink]",
       .description = "loggers whose records are not published (the record sink's own)"},
  };
}

}  // namespace crosscut::record_log
