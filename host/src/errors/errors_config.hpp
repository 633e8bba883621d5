// The `errors:` section: its option table, its reader, and the shape of `errors.rules`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crosscut/errors.hpp"
#include "crosscut/sdk/options.hpp"

namespace crosscut {

// sink, topic, timezone, rules (OptionType::any: see rule_items()).
const sdk::OptionTable<ErrorsOptions>& errors_options_table();
// Reads a validated `errors:` section (rules are read by rule_items()).
ErrorsOptions parse_errors_options(const sdk::ConfigView& errors);

// The component type of rules written without `type:` (handled by the yaml_rules plugin).
inline constexpr std::string_view kDeclarativeRuleType = "declarative";

// One element of `errors.rules`, classified. For `{type: T, options: {...}}` the runtime
// creates exception_rule T with `options`; for `{name, match, then}` it creates exception_rule
// "declarative" with the item itself as options. Views borrow the configuration tree.
struct RuleItem {
  std::string type;
  sdk::ConfigView options;
  sdk::ConfigView item;
};

// Checks the shape of `errors.rules` (a list; plugin items have only type/options;
// declarative items have a unique name and only name/match/then) and classifies each item.
// Problems throw sdk::ConfigError at the item.
std::vector<RuleItem> rule_items(const sdk::ConfigView& errors);

}  // namespace crosscut
