#include "record_log_options.hpp"

namespace crosscut::record_log {

const sdk::OptionTable<RecordLogOptions>& record_log_options() {
  static const sdk::OptionTable<RecordLogOptions> table{
      sdk::bind_option("sink", &RecordLogOptions::sink,
                       "name of the record sink (under `sinks:`) the log lines are published to")
          .required(),
      sdk::bind_option("topic", &RecordLogOptions::topic,
                       "topic of the published log lines (key: the logger name)"),
      sdk::bind_option("exclude_loggers", &RecordLogOptions::exclude_loggers,
                       "loggers whose records are not published (the record sink's own)"),
  };
  return table;
}

}  // namespace crosscut::record_log
