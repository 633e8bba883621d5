// The published error document and the normalised error it is built from.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crosscut/errors.hpp"

namespace crosscut {

// An error after normalisation and rule evaluation: everything the DTO needs but its id and
// duplicate count. Plain data.
struct ErrorRecord {
  std::string kind;
  sdk::Severity severity = sdk::Severity::error;
  sdk::ExceptionInfo exception;
  sdk::Target target;
  sdk::Value context;
  std::chrono::system_clock::time_point timestamp{};
  std::string rule;  // the matching rule's name; empty: no rule matched
  std::string resource_key;
  std::optional<sdk::BreakerState> breaker_state;  // set only when a failure was recorded
  std::string correlation_id;                      // empty: unknown
};

// One JSON document, fields in the order documented in docs/; the timestamp as
// core/timestamp.hpp formats it. Strings that are not valid UTF-8 have each bad sequence
// replaced by U+FFFD; non-finite numbers become null.
std::string render_error_dto(const ErrorRecord& record, const ServiceInfo& service,
                             std::chrono::minutes utc_offset, std::string_view error_id,
                             std::uint64_t duplicates);

}  // namespace crosscut
