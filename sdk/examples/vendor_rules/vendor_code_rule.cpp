#include "vendor_code_rule.hpp"

namespace vendor_rules {

namespace sdk = crosscut::sdk;

const sdk::OptionTable<VendorCodeOptions>& VendorCodeRule::options_table() {
  using O = VendorCodeOptions;
  static const sdk::OptionTable<O> table{
      sdk::bind_option("name", &O::name, "rule name, published in the error report's `rule` field"),
      sdk::bind_option("codes", &O::codes,
                       "vendor codes to look for in the exception message, e.g. [VND-429]")
          .required(),
      sdk::bind_option("only_kind", &O::only_kind,
                       "match only errors of this kind (default: any kind)"),
      sdk::bind_option("kind", &O::kind, "kind given to a matching error"),
      sdk::bind_option("severity", &O::severity, "severity given to a matching error")
          .choices({{"debug", sdk::Severity::debug},
                    {"info", sdk::Severity::info},
                    {"warning", sdk::Severity::warning},
                    {"error", sdk::Severity::error},
                    {"critical", sdk::Severity::critical}}),
      // A std::optional string: .choices() maps only plain enum members.
      sdk::bind_option("breaker", &O::breaker,
                       "trip: count against the target's breaker; ignore: do not "
                       "(default: the dispatcher's)")
          .one_of({"trip", "ignore"}),
  };
  return table;
}

void VendorCodeRule::check_options(const VendorCodeOptions& o, const sdk::ConfigView& view) {
  if (o.name.empty()) view.fail("name", "the rule name cannot be empty");
  if (o.codes.empty()) view.fail("codes", "name at least one vendor code");
  for (const auto& code : o.codes)
    if (code.empty()) view.fail("codes", "a vendor code cannot be empty");
  if (o.kind.empty()) view.fail("kind", "the kind cannot be empty");
}

VendorCodeRule::VendorCodeRule(const VendorCodeOptions& options, sdk::HostContext&)
    : VendorCodeRule(options) {}

VendorCodeRule::VendorCodeRule(VendorCodeOptions options) : options_(std::move(options)) {
  if (options_.breaker)
    breaker_ = *options_.breaker == "trip" ? sdk::BreakerAction::trip : sdk::BreakerAction::ignore;
}

bool VendorCodeRule::mentions_code(const sdk::ExceptionInfo& exception) const {
  for (const auto& code : options_.codes)
    if (exception.message.find(code) != std::string::npos) return true;
  for (const auto& cause : exception.nested)
    if (mentions_code(cause)) return true;
  return false;
}

std::optional<sdk::Decision> VendorCodeRule::evaluate(const sdk::ErrorView& error) const {
  if (!options_.only_kind.empty() && error.kind != options_.only_kind) return std::nullopt;
  if (!mentions_code(error.exception)) return std::nullopt;
  sdk::Decision decision;
  decision.kind = options_.kind;
  decision.severity = options_.severity;
  decision.breaker = breaker_;
  return decision;
}

}  // namespace vendor_rules
