// The `logging` configuration section: its schema and its reader.
#pragma once

#include "crosscut/sdk/options.hpp"
#include "logging/log_options.hpp"

namespace crosscut::logging {

// The `logging` section. `sinks` is OptionType::any: the runtime builds the log sink
// components from plugins itself (each element has a `type` and that type's options).
const sdk::OptionTable<LogOptions>& log_options_table();

// Reads the section (a view of the `logging` map, already checked against the table).
// Throws sdk::ConfigError via ConfigView::fail for unknown level names, bad timezone offsets
// (see core/timestamp.hpp), invalid PII regexes (with RE2's error) and unknown built-in PII
// pattern names.
LogOptions parse_log_options(const sdk::ConfigView& view);

}  // namespace crosscut::logging
