// The `logging` configuration section (DESIGN §5): its schema and its reader.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "crosscut/sdk/config.hpp"
#include "logging/log_options.hpp"

namespace crosscut::logging {

// The schema of the `logging` section. `sinks` is OptionType::any: the runtime builds the
// log sink components from plugins itself (each element has a `type` and that type's options).
sdk::ConfigSchema logging_schema();

// Reads the section (a view of the `logging` map, already checked against the schema).
// Throws sdk::ConfigError via ConfigView::fail for unknown level names, bad timezone offsets,
// invalid PII regexes (with RE2's error) and unknown built-in PII pattern names.
LogOptions parse_log_options(const sdk::ConfigView& view);

// "+09:00", "-05:30", "+0900", "Z", "UTC" or "local" (this machine's offset now); nullopt
// otherwise. Offsets beyond ±14:00 are refused.
std::optional<std::chrono::minutes> parse_utc_offset(std::string_view text);

}  // namespace crosscut::logging
