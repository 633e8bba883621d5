// One line of a `crosscut breaker simulate` trace: {"t_ms":0,"op":"acquire"[,"key":"…"]};
// open_until also takes "until_ms" (a trace time) and/or "for_ms" (a duration, ms); success
// and failure take "duration_ms" (how long the call took, for slow-call rules); any op may
// name the "instance" that made it (a failure's, for a quorum).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crosscut/sdk/breaker.hpp"

namespace crosscut::cli {

// The virtual times a trace may use, in milliseconds since the Unix epoch: from
// 1970-01-01T00:00:00.000Z to 2099-12-31T23:59:59.999Z. Recorded traces carry epoch
// milliseconds, synthetic ones small numbers; both fit. The bound keeps every sum the breaker
// makes (a time plus the largest configurable timeout or window, about 292 years) and the
// conversion of a time to a nanosecond time_point far from the int64 limits.
inline constexpr std::int64_t kMinTraceTimeMs = 0;
inline constexpr std::int64_t kMaxTraceTimeMs = sdk::kMaxBreakerTimeMs;

inline constexpr std::size_t kMaxTraceLine = 1 << 20;

struct TraceOp {
  std::int64_t t_ms = 0;
  sdk::BreakerOp op = sdk::BreakerOp::state;
  std::optional<std::string> key;  // the line's own "key", when it has one
  sdk::BreakerOpArgs args;         // "until_ms", "for_ms", "duration_ms"
  std::string instance;            // "instance", when given (the caller sets args.instance)
};

// Parses one trace line. Returns the op; or nullopt with `error` set to a one-line reason
// (without the line number) when the line is refused; or nullopt with `error` empty for a
// blank line, which a trace may contain anywhere.
std::optional<TraceOp> parse_trace_line(std::string_view line, std::string& error);

}  // namespace crosscut::cli
