#include <algorithm>
#include <set>
#include <string>

#include "crosscut/errors.hpp"

namespace crosscut {
namespace {

sdk::OptionSpec option(std::string key, sdk::OptionType type, std::string default_value,
                       std::string description) {
  sdk::OptionSpec spec;
  spec.key = std::move(key);
  spec.type = type;
  spec.default_value = std::move(default_value);
  spec.description = std::move(description);
  return spec;
}

std::optional<int> two_digits(std::string_view s) {
  if (s.size() != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return std::nullopt;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

void only_keys(const sdk::ConfigView& item, std::initializer_list<std::string_view> allowed,
               std::string_view what) {
  for (const auto& [key, value] : item.node().entries) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    item.fail(key, "unknown key in " + std::string(what) + " (allowed: " + list + ")");
  }
}

}  // namespace

std::optional<std::chrono::minutes> parse_utc_offset(std::string_view text) {
  if (text == "Z" || text == "UTC" || text == "utc") return std::chrono::minutes(0);
  if (text.size() < 3 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  const int sign = text[0] == '-' ? -1 : 1;
  std::string_view rest = text.substr(1);
  auto hours = two_digits(rest.substr(0, 2));
  if (!hours) return std::nullopt;
  rest.remove_prefix(2);
  int minutes = 0;
  if (!rest.empty()) {
    if (rest[0] == ':') rest.remove_prefix(1);
    auto m = two_digits(rest);
    if (!m || *m >= 60) return std::nullopt;
    minutes = *m;
  }
  const int total = *hours * 60 + minutes;
  if (total > 18 * 60) return std::nullopt;
  return std::chrono::minutes(sign * total);
}

sdk::ConfigSchema errors_schema() {
  return {
      option("sink", sdk::OptionType::string, "",
             "record sink (a name under sinks:) that error reports are published to; "
             "none: not published"),
      option("topic", sdk::OptionType::string, "ws.error", "topic of error reports"),
      option("timezone", sdk::OptionType::string, "",
             "UTC offset of report timestamps, e.g. +09:00 (default: logging.timezone)"),
      option("rules", sdk::OptionType::any, "",
             "ordered exception rules, first match wins: {name, match, then} or "
             "{type, options} for a rule from a plugin"),
  };
}

ErrorsOptions parse_errors_options(const sdk::ConfigView& errors) {
  ErrorsOptions o;
  o.sink = errors.get_string("sink");
  o.topic = errors.get_string("topic", "ws.error");
  if (o.topic.empty()) errors.fail("topic", "must not be empty");
  const std::string tz = errors.get_string("timezone");
  if (!tz.empty()) {
    o.utc_offset = parse_utc_offset(tz);
    if (!o.utc_offset)
      errors.fail("timezone",
                  "expected a UTC offset such as +09:00, -05:30 or Z, got '" + tz + "'");
  }
  return o;
}

std::vector<RuleItem> rule_items(const sdk::ConfigView& errors) {
  std::vector<RuleItem> out;
  const sdk::ConfigNode* rules = errors.node().find("rules");
  if (rules == nullptr || rules->kind == sdk::ConfigNode::Kind::null) return out;
  if (rules->kind != sdk::ConfigNode::Kind::sequence)
    errors.fail("rules", "expected a list of rules");
  std::set<std::string> names;
  for (const sdk::ConfigView& item : errors.children("rules")) {
    if (item.node().kind != sdk::ConfigNode::Kind::map)
      item.fail({}, "expected a rule: {name, match, then} or {type, options}");
    if (item.has("type")) {
      only_keys(item, {"type", "options"}, "a plugin rule");
      const std::string type = item.get_string("type");
      if (type.empty()) item.fail("type", "must not be empty");
      out.push_back({type, item.child("options"), item});
    } else {
      only_keys(item, {"name", "match", "then"}, "a rule");
      const std::string name = item.get_string("name");
      if (name.empty()) item.fail("name", "missing: every rule needs a name (published as `rule`)");
      if (!names.insert(name).second) item.fail("name", "duplicate rule name '" + name + "'");
      out.push_back({std::string(kDeclarativeRuleType), item, item});
    }
  }
  return out;
}

}  // namespace crosscut
