#include "ndjson_line.hpp"

#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <string_view>

namespace crosscut::stdio_sink {
namespace {

// Collects output bytes into a std::string (RapidJSON's output stream concept).
class StringSink {
 public:
  using Ch = char;
  explicit StringSink(std::string& s) : s_(s) {}
  void Put(char c) { s_.push_back(c); }
  void Flush() {}

 private:
  std::string& s_;
};

// `in` when it is valid UTF-8; otherwise a copy in `scratch` with each invalid byte replaced
// by U+FFFD.
std::string_view valid_utf8(std::string_view in, std::string& scratch) {
  auto is_valid = [](std::string_view s) {
    rapidjson::MemoryStream is(s.data(), s.size());
    rapidjson::GenericStringBuffer<rapidjson::UTF8<>> ignored;
    while (is.Tell() < s.size())
      if (!rapidjson::UTF8<>::Validate(is, ignored)) return false;
    return true;
  };
  const bool ascii = std::all_of(in.begin(), in.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii || is_valid(in)) return in;
  scratch.clear();
  std::size_t i = 0;
  while (i < in.size()) {
    rapidjson::MemoryStream is(in.data() + i, in.size() - i);
    StringSink sink(scratch);
    const std::size_t before = scratch.size();
    if (rapidjson::UTF8<>::Validate(is, sink)) {
      i += is.Tell();
    } else {
      scratch.resize(before);
      scratch += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return scratch;
}

using LineWriter = rapidjson::Writer<StringSink>;

// The Writer as a Reader handler, except that numbers (read as their source text) are written
// back verbatim: RapidJSON 1.1's Writer::RawNumber would quote them.
class ValueWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  using Writer::Writer;
  bool RawNumber(const char* text, rapidjson::SizeType length, bool /*copy*/) {
    return RawValue(text, length, rapidjson::kNumberType);
  }
};

void write_string(LineWriter& w, std::string_view s, std::string& scratch) {
  const std::string_view v = valid_utf8(s, scratch);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

constexpr unsigned kPayloadFlags = rapidjson::kParseValidateEncodingFlag |
                                   rapidjson::kParseIterativeFlag |
                                   rapidjson::kParseNumbersAsStringsFlag;

// Is `payload` exactly one JSON document? MemoryStream reads an embedded NUL as the end:
// insist that everything was consumed.
template <class Handler>
bool parse_payload(std::string_view payload, Handler& handler) {
  rapidjson::MemoryStream is(payload.data(), payload.size());
  rapidjson::Reader reader;
  return !reader.Parse<kPayloadFlags>(is, handler).IsError() && is.Tell() == payload.size();
}

// The payload as it goes into the line: verbatim when it is one JSON document on one line (the
// common case: host producers write compact JSON), re-serialised compactly into `value` when
// it is one document spread over lines; empty when it is not JSON.
std::string_view render_payload(std::string_view payload, rapidjson::StringBuffer& value) {
  // Valid JSON has line breaks only as whitespace between tokens (strings escape them).
  if (payload.find_first_of("\n\r") == std::string_view::npos) {
    rapidjson::BaseReaderHandler<> validate;
    return parse_payload(payload, validate) ? payload : std::string_view();
  }
  ValueWriter writer(value);
  if (!parse_payload(payload, writer) || !writer.IsComplete()) return {};
  return {value.GetString(), value.GetSize()};
}

}  // namespace

bool append_ndjson_line(const sdk::Record& record, std::string& out) {
  thread_local rapidjson::StringBuffer value;
  thread_local std::string scratch;
  value.Clear();
  const std::string_view rendered = render_payload(record.payload, value);
  const bool embedded = !rendered.empty();

  StringSink sink(out);
  LineWriter w(sink);
  w.StartObject();
  if (!record.id.empty()) {
    w.Key("id");
    write_string(w, record.id, scratch);
  }
  w.Key("topic");
  write_string(w, record.topic, scratch);
  w.Key("key");
  write_string(w, record.key, scratch);
  w.Key("value");
  if (embedded)
    w.RawValue(rendered.data(), rendered.size(), rapidjson::kObjectType);
  else
    write_string(w, record.payload, scratch);
  w.EndObject();
  out.push_back('\n');
  return embedded;
}

}  // namespace crosscut::stdio_sink
