// The options of the `record` log sink, declared once in its option table.
#pragma once

#include <string>
#include <vector>

#include "crosscut/sdk/options.hpp"

namespace crosscut::record_log {

struct RecordLogOptions {
  std::string sink;  // the NAME of a record sink under `sinks:`
  std::string topic = "logs";
  std::vector<std::string> exclude_loggers{"kafka_sink"};  // by default the Kafka sink's own
};

const sdk::OptionTable<RecordLogOptions>& record_log_options();

}  // namespace crosscut::record_log
