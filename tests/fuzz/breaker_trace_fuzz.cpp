// The line parser of `crosscut breaker simulate`. Every line is an op, a blank line or a
// one-line refusal; an accepted op has a time in the documented range, and the same op
// written back as JSON parses to itself.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "breaker_trace.hpp"

namespace {

using crosscut::cli::parse_trace_line;
using crosscut::cli::TraceOp;

[[noreturn]] void finding(const char* what, std::string_view line, const std::string& detail = {}) {
  std::fprintf(stderr, "breaker trace fuzz finding: %s\n  line: '%.*s'\n  %s\n", what,
               static_cast<int>(std::min<std::size_t>(line.size(), 4096)), line.data(),
               detail.c_str());
  std::abort();
}

std::string json_of(const TraceOp& op) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("t_ms");
  w.Int64(op.t_ms);
  w.Key("op");
  const auto name = crosscut::sdk::op_name(op.op);
  w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  if (op.key) {
    w.Key("key");
    w.String(op.key->data(), static_cast<rapidjson::SizeType>(op.key->size()));
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

bool same(const TraceOp& a, const TraceOp& b) {
  return a.t_ms == b.t_ms && a.op == b.op && a.key == b.key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto op = parse_trace_line(line, error);
  const bool blank = line.find_first_not_of(" \t\r") == std::string_view::npos;
  if (!op) {
    if (error.empty() != blank)
      finding("blank-line answer for a non-blank line or vice versa", line);
    if (error.find('\n') != std::string::npos || error.find('\0') != std::string::npos)
      finding("the refusal is not one line of text", line, error);
    return 0;
  }
  if (!error.empty()) finding("an accepted line also has an error", line, error);
  if (op->t_ms < crosscut::cli::kMinTraceTimeMs || op->t_ms > crosscut::cli::kMaxTraceTimeMs)
    finding("a time outside the range was accepted", line, std::to_string(op->t_ms));
  const std::string written = json_of(*op);
  auto again = parse_trace_line(written, error);
  if (!again || !same(*op, *again))
    finding("the op written back parses differently", line, written + ": " + error);
  return 0;
}
