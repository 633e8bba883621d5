#include <algorithm>
#include <set>
#include <string>

#include "core/timestamp.hpp"
#include "errors/errors_config.hpp"

namespace crosscut {
namespace {

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

const sdk::OptionTable<ErrorsOptions>& errors_options_table() {
  using sdk::bind_option;
  static const sdk::OptionTable<ErrorsOptions> table{
      bind_option("sink", &ErrorsOptions::sink,
                  "record sink (a name under sinks:) that error reports are published to; "
                  "none: not published"),
      bind_option("topic", &ErrorsOptions::topic, "topic of error reports"),
      sdk::unbound("timezone", sdk::OptionType::string,
                   "UTC offset of report timestamps, e.g. +09:00 (default: logging.timezone)"),
      sdk::unbound("rules", sdk::OptionType::any,
                   "ordered exception rules, first match wins: {name, match, then} or "
                   "{type, options} for a rule from a plugin"),
  };
  return table;
}

ErrorsOptions parse_errors_options(const sdk::ConfigView& errors) {
  ErrorsOptions o = errors_options_table().read(errors);
  if (o.topic.empty()) errors.fail("topic", "must not be empty");
  // `timezone` is unbound: its text becomes an offset here.
  const std::string tz = errors.get_string("timezone");
  if (!tz.empty()) {
    o.utc_offset = core::parse_utc_offset(tz);
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
