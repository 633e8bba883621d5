// Reading the symbol and the event time of one market-data message (a JSON object).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <re2/re2.h>

namespace crosscut::kafka {

// Which members of a message hold what is counted. Immutable once built; thread-safe.
class MessageFields {
 public:
  // `symbol_regex`, when not empty, must have exactly one capture group; the symbol counted
  // is what it captures (a symbol it does not match is counted as written). Throws
  // std::invalid_argument with RE2's message for a bad pattern.
  MessageFields(std::string symbol_field, std::string time_field, const std::string& symbol_regex);

  struct Read {
    std::string symbol;
    std::optional<std::int64_t> time_ms;  // nullopt when no time_field is configured
  };

  // The fields of `payload`, or nullopt with `reason` set when the payload is not a JSON
  // object, lacks the symbol (a non-empty string) or lacks a numeric time (epoch ms; a
  // string of digits is accepted too). Never throws on content; deep nesting is parsed
  // without recursion.
  std::optional<Read> read(std::string_view payload, std::string& reason) const;

 private:
  std::string symbol_field_;
  std::string time_field_;
  std::unique_ptr<RE2> symbol_regex_;
};

}  // namespace crosscut::kafka
