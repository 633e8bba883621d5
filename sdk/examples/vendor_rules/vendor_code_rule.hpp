// Exception rule `vendor_code`: an error whose message (or a nested cause's) contains one of
// the configured vendor codes gets the configured kind and severity, e.g. an exchange's
// "VND-429" becomes kind rate_limited, severity warning.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crosscut/sdk/sdk.hpp"

namespace vendor_rules {

// The options, with their defaults; vendor_code_rule.cpp binds each to its key.
struct VendorCodeOptions {
  std::string name = "vendor_code";  // published in the error report's `rule` field
  std::vector<std::string> codes;    // matched as plain substrings, case-sensitive
  std::string only_kind;             // empty: errors of any kind
  std::string kind = "rate_limited";
  crosscut::sdk::Severity severity = crosscut::sdk::Severity::warning;
  std::optional<std::string> breaker;  // "trip" or "ignore"; unset: the dispatcher's default
};

// Immutable after construction, so evaluate() is safe from any thread and never blocks.
class VendorCodeRule final : public crosscut::sdk::ExceptionRule {
 public:
  static const crosscut::sdk::OptionTable<VendorCodeOptions>& options_table();
  // What the table cannot express (no empty name, kind or code; at least one code), reported
  // as a ConfigError at the option. The factory calls it before the constructor, and
  // `crosscut validate` calls it alone.
  static void check_options(const VendorCodeOptions& options,
                            const crosscut::sdk::ConfigView& view);

  // Built by the host, from options it has validated against options_table() and checked.
  VendorCodeRule(const VendorCodeOptions& options, crosscut::sdk::HostContext& host);
  // Built directly (tests): the options are taken as they are.
  explicit VendorCodeRule(VendorCodeOptions options);

  std::string_view name() const override { return options_.name; }
  std::optional<crosscut::sdk::Decision> evaluate(
      const crosscut::sdk::ErrorView& error) const override;

 private:
  bool mentions_code(const crosscut::sdk::ExceptionInfo& exception) const;

  VendorCodeOptions options_;
  std::optional<crosscut::sdk::BreakerAction> breaker_;
};

}  // namespace vendor_rules
