#include "declarative_rule.hpp"

#include "glob.hpp"

namespace crosscut::yaml_rules {
namespace {

// An empty condition would match only an empty field: almost surely a mistake.
std::optional<std::string> non_empty(const std::optional<std::string>& value,
                                     const sdk::ConfigView& match, std::string_view key) {
  if (value && value->empty())
    match.fail(key, "must not be empty (leave the condition out instead)");
  return value;
}

}  // namespace

DeclarativeRule::DeclarativeRule(const DeclarativeRuleOptions& options, const sdk::ConfigView& view,
                                 sdk::HostContext&)
    : name_(options.name) {
  if (name_.empty()) view.fail("name", "missing: every rule needs a name");

  const sdk::ConfigView match = view.child("match");
  kind_ = non_empty(options.match.kind, match, "kind");
  exception_ = non_empty(options.match.exception, match, "exception");
  exchange_ = non_empty(options.match.exchange, match, "exchange");
  region_ = non_empty(options.match.region, match, "region");
  request_type_ = non_empty(options.match.request_type, match, "request_type");
  if (options.match.message) {
    RE2::Options re_options;
    re_options.set_log_errors(false);
    message_ = std::make_unique<RE2>(*options.match.message, re_options);
    if (!message_->ok()) match.fail("message", "invalid regular expression: " + message_->error());
  }

  const ThenOptions& then = options.then;
  if (then.kind && then.kind->empty()) view.child("then").fail("kind", "must not be empty");
  decision_.kind = then.kind;
  if (then.severity) decision_.severity = sdk::parse_severity(*then.severity);
  if (then.breaker) decision_.breaker = parse_breaker_action(*then.breaker);
  decision_.publish = then.publish;
  decision_.suppress_for = then.suppress_for;
}

std::optional<sdk::Decision> DeclarativeRule::evaluate(const sdk::ErrorView& e) const {
  if (kind_ && e.kind != *kind_) return std::nullopt;
  if (exchange_ && e.target.exchange != *exchange_) return std::nullopt;
  if (region_ && e.target.region != *region_) return std::nullopt;
  if (request_type_ && e.target.request_type != *request_type_) return std::nullopt;
  if (exception_ && !glob_match(*exception_, e.exception.type)) return std::nullopt;
  if (message_ && !RE2::PartialMatch(e.exception.message, *message_)) return std::nullopt;
  return decision_;
}

}  // namespace crosscut::yaml_rules
