// The options of exception rule `declarative` (one `errors.rules` item), declared once: the
// structs and their tables.
//   {name, match: {kind, exception, message, exchange, region, request_type},
//          then: {kind, severity, breaker, publish, suppress_for}}
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "crosscut/sdk/exception_rule.hpp"
#include "crosscut/sdk/options.hpp"

namespace crosscut::yaml_rules {

// Conditions; an absent one does not restrict the match.
struct MatchOptions {
  std::optional<std::string> kind;
  std::optional<std::string> exception;  // exact, or a glob with * and ?
  std::optional<std::string> message;    // an RE2 pattern
  std::optional<std::string> exchange;
  std::optional<std::string> region;
  std::optional<std::string> request_type;
};

// The decision; an absent member keeps the dispatcher's default. Severity and breaker are
// kept as their config names: the SDK's .choices() does not take std::optional enum members.
struct ThenOptions {
  std::optional<std::string> kind;
  std::optional<std::string> severity;  // a name sdk::parse_severity accepts
  std::optional<std::string> breaker;   // a name parse_breaker_action accepts
  std::optional<bool> publish;
  std::optional<std::chrono::milliseconds> suppress_for;
};

struct DeclarativeRuleOptions {
  std::string name;
  MatchOptions match;
  ThenOptions then;
};

const sdk::OptionTable<DeclarativeRuleOptions>& declarative_rule_options_table();

// "trip" or "ignore", the names the table allows for `then.breaker`.
std::optional<sdk::BreakerAction> parse_breaker_action(std::string_view name);

}  // namespace crosscut::yaml_rules
