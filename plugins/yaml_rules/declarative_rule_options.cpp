#include "declarative_rule_options.hpp"

#include <utility>
#include <vector>

namespace crosscut::yaml_rules {
namespace {

constexpr std::pair<std::string_view, sdk::BreakerAction> kBreakerActions[] = {
    {"trip", sdk::BreakerAction::trip},
    {"ignore", sdk::BreakerAction::ignore},
};

std::vector<std::string> severity_names() {
  std::vector<std::string> names;
  for (auto s : {sdk::Severity::debug, sdk::Severity::info, sdk::Severity::warning,
                 sdk::Severity::error, sdk::Severity::critical})
    names.emplace_back(sdk::severity_name(s));
  return names;
}

std::vector<std::string> breaker_action_names() {
  std::vector<std::string> names;
  for (const auto& [name, action] : kBreakerActions) names.emplace_back(name);
  return names;
}

const sdk::OptionTable<MatchOptions>& match_table() {
  using M = MatchOptions;
  static const sdk::OptionTable<M> table{
      sdk::bind_option("kind", &M::kind, "error kind, exactly (e.g. ws_connection)"),
      sdk::bind_option("exception", &M::exception,
                       "exception type name, exactly or as a glob with * and ? (e.g. "
                       "*ConnectionError)"),
      sdk::bind_option("message", &M::message,
                       "RE2 pattern searched in the exception message (e.g. (?i)429|too many "
                       "requests)"),
      sdk::bind_option("exchange", &M::exchange, "target exchange, exactly"),
      sdk::bind_option("region", &M::region, "target region, exactly"),
      sdk::bind_option("request_type", &M::request_type, "target request type, exactly"),
  };
  return table;
}

const sdk::OptionTable<ThenOptions>& then_table() {
  using T = ThenOptions;
  static const sdk::OptionTable<T> table{
      sdk::bind_option("kind", &T::kind, "replace the error's kind"),
      sdk::bind_option("severity", &T::severity, "severity of the error").one_of(severity_names()),
      sdk::bind_option("breaker", &T::breaker,
                       "trip: record a failure on the target's breaker; ignore: do not")
          .one_of(breaker_action_names()),
      sdk::bind_option("publish", &T::publish, "publish the error report"),
      sdk::bind_option("suppress_for", &T::suppress_for,
                       "hold duplicates (same kind, target, exception type) for this long")
          .positive(),
  };
  return table;
}

}  // namespace

const sdk::OptionTable<DeclarativeRuleOptions>& declarative_rule_options_table() {
  using R = DeclarativeRuleOptions;
  static const sdk::OptionTable<R> table{
      sdk::bind_option("name", &R::name, "rule name, published as the DTO's `rule`").required(),
      sdk::bind_option("match", &R::match,
                       "conditions that must all hold (none: matches every error)")
          .members(match_table()),
      sdk::bind_option("then", &R::then, "the decision for a matching error").members(then_table()),
  };
  return table;
}

std::optional<sdk::BreakerAction> parse_breaker_action(std::string_view name) {
  for (const auto& [n, action] : kBreakerActions)
    if (n == name) return action;
  return std::nullopt;
}

}  // namespace crosscut::yaml_rules
