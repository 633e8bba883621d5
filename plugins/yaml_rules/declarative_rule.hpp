// The `declarative` exception rule: one `errors.rules` item written in YAML,
//   {name, match: {kind, exception, message, exchange, region, request_type},
//          then: {kind, severity, breaker, publish, suppress_for}}.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>

#include "crosscut/sdk/sdk.hpp"

namespace crosscut::yaml_rules {

// The component's option schema (the whole rule item).
sdk::ConfigSchema declarative_rule_schema();

// Every given condition must hold: kind, exchange, region and request_type exactly; exception
// as an exact type name or a glob (* and ?); message as an RE2 pattern found anywhere in the
// message. Immutable after construction, so evaluate() is safe from any thread.
class DeclarativeRule : public sdk::ExceptionRule {
 public:
  // Throws sdk::ConfigError (file:line:column) for an invalid pattern or decision value.
  DeclarativeRule(const sdk::ConfigView& options, sdk::HostContext& host);

  std::string_view name() const override { return name_; }
  std::optional<sdk::Decision> evaluate(const sdk::ErrorView& error) const override;

 private:
  std::string name_;
  std::optional<std::string> kind_, exception_, exchange_, region_, request_type_;
  std::unique_ptr<RE2> message_;
  sdk::Decision decision_;
};

}  // namespace crosscut::yaml_rules
