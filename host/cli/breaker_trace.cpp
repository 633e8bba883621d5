#include "breaker_trace.hpp"

#include <rapidjson/document.h>

#include <algorithm>

namespace crosscut::cli {
namespace {

// A value quoted in a refusal: short, and kept on one line (JSON strings may hold newlines and
// NULs); cut at a character boundary.
std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 64;
  std::size_t n = std::min(s.size(), kMax);
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  std::string out(s.substr(0, n));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  if (n < s.size()) out += "...";
  return out;
}

}  // namespace

std::optional<TraceOp> parse_trace_line(std::string_view line, std::string& error) {
  error.clear();
  auto bad = [&](std::string why) -> std::optional<TraceOp> {
    error = std::move(why);
    return std::nullopt;
  };
  if (line.size() > kMaxTraceLine) return bad("line longer than 1 MiB");
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return std::nullopt;
  rapidjson::Document doc;
  // Iterative: a line of a million '[' must not exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) return bad("not a JSON object");
  // Through a const view: RapidJSON's mixed const/non-const iterator comparisons are
  // ambiguous under C++20's reversed operators.
  const rapidjson::Value& object = doc;
  TraceOp out;
  auto t = object.FindMember("t_ms");
  if (t == object.MemberEnd() || !t->value.IsInt64())
    return bad("'t_ms' must be an integer (milliseconds)");
  out.t_ms = t->value.GetInt64();
  if (out.t_ms < kMinTraceTimeMs || out.t_ms > kMaxTraceTimeMs)
    return bad("'t_ms' " + std::to_string(out.t_ms) + " is outside the accepted range " +
               std::to_string(kMinTraceTimeMs) + ".." + std::to_string(kMaxTraceTimeMs) +
               " (1970-01-01T00:00:00.000Z to 2099-12-31T23:59:59.999Z)");
  auto o = object.FindMember("op");
  if (o == object.MemberEnd() || !o->value.IsString()) return bad("'op' must be a string");
  const std::string_view name(o->value.GetString(), o->value.GetStringLength());
  auto op = sdk::parse_op(name);
  if (!op)
    return bad("unknown op '" + shown(name) +
               "' (acquire, success, failure, state, reset, force_open, open_until)");
  out.op = *op;
  if (out.op == sdk::BreakerOp::open_until) {
    auto until = object.FindMember("until_ms");
    auto for_ms = object.FindMember("for_ms");
    if (until == object.MemberEnd() && for_ms == object.MemberEnd())
      return bad("open_until needs 'until_ms' (a time) or 'for_ms' (a duration)");
    if (until != object.MemberEnd()) {
      if (!until->value.IsInt64() || until->value.GetInt64() < kMinTraceTimeMs ||
          until->value.GetInt64() > kMaxTraceTimeMs)
        return bad("'until_ms' must be an integer time in the range of 't_ms'");
      out.args.until_ms = until->value.GetInt64();
    }
    if (for_ms != object.MemberEnd()) {
      if (!for_ms->value.IsInt64() || for_ms->value.GetInt64() < 0 ||
          for_ms->value.GetInt64() > kMaxTraceTimeMs)
        return bad("'for_ms' must be an integer from 0 to " + std::to_string(kMaxTraceTimeMs));
      out.args.for_ms = for_ms->value.GetInt64();
    }
  }
  if (auto d = object.FindMember("duration_ms"); d != object.MemberEnd()) {
    if (out.op != sdk::BreakerOp::success && out.op != sdk::BreakerOp::failure)
      return bad("'duration_ms' is for success and failure only");
    if (!d->value.IsInt64() || d->value.GetInt64() < 0 || d->value.GetInt64() > kMaxTraceTimeMs)
      return bad("'duration_ms' must be an integer from 0 to " + std::to_string(kMaxTraceTimeMs));
    out.args.duration_ms = d->value.GetInt64();
  }
  if (auto i = object.FindMember("instance"); i != object.MemberEnd()) {
    if (!i->value.IsString() || i->value.GetStringLength() > sdk::kMaxBreakerInstanceBytes)
      return bad("'instance' must be a string of at most " +
                 std::to_string(sdk::kMaxBreakerInstanceBytes) + " bytes");
    out.instance.assign(i->value.GetString(), i->value.GetStringLength());
  }
  if (auto k = object.FindMember("key"); k != object.MemberEnd()) {
    if (!k->value.IsString()) return bad("'key' must be a string");
    out.key.emplace(k->value.GetString(), k->value.GetStringLength());
  }
  return out;
}

}  // namespace crosscut::cli
