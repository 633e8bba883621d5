#include "message_fields.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace crosscut::kafka {

MessageFields::MessageFields(std::string symbol_field, std::string time_field,
                             const std::string& symbol_regex)
    : symbol_field_(std::move(symbol_field)), time_field_(std::move(time_field)) {
  if (symbol_regex.empty()) return;
  RE2::Options o;
  o.set_log_errors(false);
  symbol_regex_ = std::make_unique<RE2>(symbol_regex, o);
  if (!symbol_regex_->ok()) throw std::invalid_argument(symbol_regex_->error());
  if (symbol_regex_->NumberOfCapturingGroups() != 1)
    throw std::invalid_argument("needs exactly one capture group (the symbol), has " +
                                std::to_string(symbol_regex_->NumberOfCapturingGroups()));
}

namespace {

std::optional<std::int64_t> time_of(const rapidjson::Value& v) {
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsUint64()) return std::nullopt;  // beyond int64: not an epoch in milliseconds
  if (v.IsDouble()) {
    const double d = v.GetDouble();
    if (!std::isfinite(d) || std::fabs(d) > 9.0e18) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  if (v.IsString()) {
    std::int64_t out = 0;
    const char* begin = v.GetString();
    const char* end = begin + v.GetStringLength();
    auto [p, ec] = std::from_chars(begin, end, out);
    if (ec == std::errc() && p == end && begin != end) return out;
  }
  return std::nullopt;
}

}  // namespace

std::optional<MessageFields::Read> MessageFields::read(std::string_view payload,
                                                       std::string& reason) const {
  // Small messages parse without touching the heap; larger ones spill over to it.
  char value_buffer[8192];
  char parse_buffer[2048];
  rapidjson::MemoryPoolAllocator<> values(value_buffer, sizeof value_buffer);
  rapidjson::MemoryPoolAllocator<> stack(parse_buffer, sizeof parse_buffer);
  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                              rapidjson::MemoryPoolAllocator<>>;
  Document doc(&values, sizeof parse_buffer, &stack);
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(payload.data(),
                                                                                    payload.size());
  if (doc.HasParseError()) {
    reason = std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
             " at offset " + std::to_string(doc.GetErrorOffset());
    return std::nullopt;
  }
  if (!doc.IsObject()) {
    reason = "not a JSON object";
    return std::nullopt;
  }
  Read out;
  // Through a const view: RapidJSON's mixed const/non-const iterator comparisons are
  // ambiguous under C++20's reversed operators.
  const rapidjson::Value& object = doc;
  auto symbol = object.FindMember(rapidjson::StringRef(symbol_field_.data(), symbol_field_.size()));
  if (symbol == object.MemberEnd() || !symbol->value.IsString() ||
      symbol->value.GetStringLength() == 0) {
    reason = "no string field '" + symbol_field_ + "'";
    return std::nullopt;
  }
  const std::string_view raw(symbol->value.GetString(), symbol->value.GetStringLength());
  re2::StringPiece captured;
  if (symbol_regex_ &&
      RE2::PartialMatch(re2::StringPiece(raw.data(), raw.size()), *symbol_regex_, &captured) &&
      !captured.empty())
    out.symbol.assign(captured.data(), captured.size());
  else
    out.symbol.assign(raw);

  if (!time_field_.empty()) {
    auto time = object.FindMember(rapidjson::StringRef(time_field_.data(), time_field_.size()));
    if (time != object.MemberEnd()) out.time_ms = time_of(time->value);
    if (!out.time_ms) {
      reason = "no epoch-milliseconds field '" + time_field_ + "'";
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace crosscut::kafka
