#include "declarative_rule.hpp"

#include <algorithm>
#include <chrono>

#include "glob.hpp"

namespace crosscut::yaml_rules {
namespace {

const std::vector<std::string> kSeverities = {"debug", "info", "warning", "error", "critical"};
const std::vector<std::string> kBreakerActions = {"trip", "ignore"};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// The host checks keys against the schema too; this keeps the rule safe on its own.
void only_known_keys(const sdk::ConfigView& view, const sdk::ConfigSchema& schema,
                     std::string_view what) {
  const sdk::ConfigNode& node = view.node();
  if (node.kind == sdk::ConfigNode::Kind::null) return;
  if (node.kind != sdk::ConfigNode::Kind::map)
    view.fail({}, "expected a map of " + std::string(what));
  std::vector<std::string> known;
  for (const auto& spec : schema) known.push_back(spec.key);
  for (const auto& [key, value] : node.entries)
    if (std::find(known.begin(), known.end(), key) == known.end())
      view.fail(key,
                "unknown " + std::string(what) + " '" + key + "' (known: " + join(known) + ")");
}

std::optional<std::string> exact(const sdk::ConfigView& match, std::string_view key) {
  if (!match.has(key)) return std::nullopt;
  std::string value = match.get_string(key);
  if (value.empty()) match.fail(key, "must not be empty (leave the condition out instead)");
  return value;
}

sdk::ConfigSchema match_schema() {
  return {
      sdk::option("kind", sdk::OptionType::string, "", "error kind, exactly (e.g. ws_connection)"),
      sdk::option("exception", sdk::OptionType::string, "",
                  "exception type name, exactly or as a glob with * and ? (e.g. *ConnectionError)"),
      sdk::option("message", sdk::OptionType::string, "",
                  "RE2 pattern searched in the exception message (e.g. (?i)429|too many requests)"),
      sdk::option("exchange", sdk::OptionType::string, "", "target exchange, exactly"),
      sdk::option("region", sdk::OptionType::string, "", "target region, exactly"),
      sdk::option("request_type", sdk::OptionType::string, "", "target request type, exactly"),
  };
}

sdk::ConfigSchema then_schema() {
  auto suppress = sdk::option("suppress_for", sdk::OptionType::duration, "",
                              "hold duplicates (same kind, target, exception type) for this long");
  suppress.positive = true;
  auto severity = sdk::option("severity", sdk::OptionType::string, "", "severity of the error");
  severity.choices = kSeverities;
  auto breaker = sdk::option("breaker", sdk::OptionType::string, "",
                             "trip: record a failure on the target's breaker; ignore: do not");
  breaker.choices = kBreakerActions;
  return {
      sdk::option("kind", sdk::OptionType::string, "", "replace the error's kind"),
      std::move(severity),
      std::move(breaker),
      sdk::option("publish", sdk::OptionType::boolean, "", "publish the error report"),
      std::move(suppress),
  };
}

}  // namespace

sdk::ConfigSchema declarative_rule_schema() {
  auto name =
      sdk::option("name", sdk::OptionType::string, "", "rule name, published as the DTO's `rule`");
  name.required = true;
  auto match = sdk::option("match", sdk::OptionType::object, "",
                           "conditions that must all hold (none: matches every error)");
  match.children = match_schema();
  auto then = sdk::option("then", sdk::OptionType::object, "", "the decision for a matching error");
  then.children = then_schema();
  return {std::move(name), std::move(match), std::move(then)};
}

DeclarativeRule::DeclarativeRule(const sdk::ConfigView& options, sdk::HostContext&) {
  only_known_keys(options, declarative_rule_schema(), "rule key");
  name_ = options.get_string("name");
  if (name_.empty()) options.fail("name", "missing: every rule needs a name");

  const sdk::ConfigView match = options.child("match");
  only_known_keys(match, match_schema(), "condition");
  kind_ = exact(match, "kind");
  exception_ = exact(match, "exception");
  exchange_ = exact(match, "exchange");
  region_ = exact(match, "region");
  request_type_ = exact(match, "request_type");
  if (match.has("message")) {
    RE2::Options re_options;
    re_options.set_log_errors(false);
    message_ = std::make_unique<RE2>(match.get_string("message"), re_options);
    if (!message_->ok()) match.fail("message", "invalid regular expression: " + message_->error());
  }

  const sdk::ConfigView then = options.child("then");
  only_known_keys(then, then_schema(), "decision");
  if (then.has("kind")) {
    decision_.kind = then.get_string("kind");
    if (decision_.kind->empty()) then.fail("kind", "must not be empty");
  }
  if (then.has("severity")) {
    const std::string s = then.get_string("severity");
    decision_.severity = sdk::parse_severity(s);
    if (!decision_.severity)
      then.fail("severity", "unknown severity '" + s + "' (use " + join(kSeverities) + ")");
  }
  if (then.has("breaker")) {
    const std::string b = then.get_string("breaker");
    if (b == "trip")
      decision_.breaker = sdk::BreakerAction::trip;
    else if (b == "ignore")
      decision_.breaker = sdk::BreakerAction::ignore;
    else
      then.fail("breaker", "unknown breaker action '" + b + "' (use trip or ignore)");
  }
  if (then.has("publish")) decision_.publish = then.get_bool("publish");
  if (then.has("suppress_for")) {
    const auto d = then.get_duration("suppress_for");
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(d);
    if (ms.count() <= 0) then.fail("suppress_for", "must be > 0");
    decision_.suppress_for = ms;
  }
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
