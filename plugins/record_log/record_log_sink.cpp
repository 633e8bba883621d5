#include "record_log_sink.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace crosscut::record_log {
namespace {

sdk::RecordSink& named_sink(const std::string& name, sdk::HostContext& host) {
  sdk::RecordSink* sink = host.record_sink(name);
  // check_options() made sure the name is declared; a host that builds sinks builds them all.
  if (sink == nullptr) throw std::logic_error("no record sink named '" + name + "'");
  return *sink;
}

}  // namespace

RecordLogSink::RecordLogSink(sdk::RecordSink& sink, std::string topic,
                             std::vector<std::string> exclude_loggers)
    : sink_(sink), topic_(std::move(topic)), exclude_loggers_(std::move(exclude_loggers)) {}

void RecordLogSink::check_options(const RecordLogOptions& options, const sdk::ConfigView& view,
                                  sdk::HostContext& host) {
  // Present but empty passes the host's `required` check; it names no sink.
  if (options.sink.empty())
    view.fail("sink", "the name of a record sink under `sinks:` is required");
  if (host.record_sink(options.sink) == nullptr)
    view.fail("sink", "no record sink named '" + options.sink + "' under `sinks:`");
  if (options.topic.empty()) view.fail("topic", "a topic name is required");
}

RecordLogSink::RecordLogSink(const RecordLogOptions& options, sdk::HostContext& host)
    : RecordLogSink(named_sink(options.sink, host), options.topic, options.exclude_loggers) {}

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

}  // namespace crosscut::record_log
