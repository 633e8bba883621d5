// The `declarative` exception rule: one `errors.rules` item written in YAML (its options:
// declarative_rule_options.hpp).
#pragma once

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>

#include "crosscut/sdk/sdk.hpp"
#include "declarative_rule_options.hpp"

namespace crosscut::yaml_rules {

// Every given condition must hold: kind, exchange, region and request_type exactly; exception
// as an exact type name or a glob (* and ?); message as an RE2 pattern found anywhere in the
// message. Immutable after construction, so evaluate() is safe from any thread.
class DeclarativeRule final : public sdk::ExceptionRule {
 public:
  static const sdk::OptionTable<DeclarativeRuleOptions>& options_table() {
    return declarative_rule_options_table();
  }

  // `options` read from `view` (validated against the table). Throws sdk::ConfigError
  // (file:line:column) for what the table cannot check: an invalid pattern, an empty name,
  // condition or kind.
  DeclarativeRule(const DeclarativeRuleOptions& options, const sdk::ConfigView& view,
                  sdk::HostContext& host);
  // The same checks: a rule has no side effects, so checking one is building one.
  static void check_options(const DeclarativeRuleOptions& options, const sdk::ConfigView& view,
                            sdk::HostContext& host) {
    DeclarativeRule(options, view, host);
  }

  std::string_view name() const override { return name_; }
  std::optional<sdk::Decision> evaluate(const sdk::ErrorView& error) const override;

 private:
  std::string name_;
  std::optional<std::string> kind_, exception_, exchange_, region_, request_type_;
  std::unique_ptr<RE2> message_;
  sdk::Decision decision_;
};

}  // namespace crosscut::yaml_rules
