// The `logging` configuration section (DESIGN §5): its schema and its reader.
#pragma once

#include "crosscut/sdk/config.hpp"
#include "logging/log_options.hpp"

namespace crosscut::logging {

// The schema of the `logging` section. `sinks` is OptionType::any: the runtime builds the
// log sink components from plugins itself (each element has a `type` and that type's options).
sdk::ConfigSchema logging_schema();

// Reads the section (a view of the `logging` map, already checked against the schema).
// Throws sdk::ConfigError via ConfigView::fail for unknown level names, bad timezone offsets
// (see core/timestamp.hpp), invalid PII regexes (with RE2's error) and unknown built-in PII
// pattern names.
LogOptions parse_log_options(const sdk::ConfigView& view);

}  // namespace crosscut::logging
