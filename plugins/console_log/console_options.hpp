// The options of log sink `console`, declared once: the struct (defaults) and its table.
#pragma once

#include "crosscut/sdk/options.hpp"

namespace crosscut::plugins::console_log {

enum class Format { json, pretty };
enum class Stream { standard_error, standard_output };

struct ConsoleOptions {
  Format format = Format::json;
  Stream stream = Stream::standard_error;
};

const sdk::OptionTable<ConsoleOptions>& console_options_table();

}  // namespace crosscut::plugins::console_log
