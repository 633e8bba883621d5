// The "pretty" console format: one readable line per record, for development.
//   2025-01-13T14:30:00.123456+09:00 INFO     orchestrator/app: connection created exchange=upbit
#pragma once

#include <string>

#include "crosscut/sdk/log.hpp"

namespace crosscut::plugins::console_log {

// Appends the line (no newline) to `out`. Control characters in the message are escaped
// (\n, \t, \xNN) so a record stays on one line and cannot drive the terminal.
void append_pretty_line(std::string& out, const sdk::LogRecord& record, bool colour);

}  // namespace crosscut::plugins::console_log
