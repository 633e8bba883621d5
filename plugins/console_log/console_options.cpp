#include "console_options.hpp"

namespace crosscut::plugins::console_log {

const sdk::OptionTable<ConsoleOptions>& console_options_table() {
  static const sdk::OptionTable<ConsoleOptions> table{
      sdk::bind_option("format", &ConsoleOptions::format,
                       "json: the JSON line; pretty: readable, coloured on a terminal")
          .choices({{"json", Format::json}, {"pretty", Format::pretty}}),
      sdk::bind_option("stream", &ConsoleOptions::stream,
                       "where records go (stdout stays free for record sinks by default)")
          .choices({{"stderr", Stream::standard_error}, {"stdout", Stream::standard_output}}),
  };
  return table;
}

}  // namespace crosscut::plugins::console_log
