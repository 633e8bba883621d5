#include "vendor_code_rule.hpp"

namespace vendor_rules {

namespace sdk = crosscut::sdk;

sdk::ConfigSchema VendorCodeRule::schema() {
  return {
      {.key = "name",
       .type = sdk::OptionType::string,
       .default_value = "vendor_code",
       .description = "rule name, published in the error report's `rule` field"},
      {.key = "codes",
       .type = sdk::OptionType::string_list,
       .description = "vendor codes to look for in the exception message, e.g. [VND-429]",
       .required = true},
      {.key = "only_kind",
       .type = sdk::OptionType::string,
       .description = "match only errors of this kind (default: any kind)"},
      {.key = "kind",
       .type = sdk::OptionType::string,
       .default_value = "rate_limited",
       .description = "kind given to a matching error"},
      {.key = "severity",
       .type = sdk::OptionType::string,
       .default_value = "warning",
       .description = "severity given to a matching error",
       .choices = {"debug", "info", "warning", "error", "critical"}},
      {.key = "breaker",
       .type = sdk::OptionType::string,
       .description = "trip: count against the target's breaker; ignore: do not "
                      "(default: the dispatcher's)",
       .choices = {"trip", "ignore"}},
  };
}

VendorCodeOptions VendorCodeRule::read_options(const sdk::ConfigView& options) {
  VendorCodeOptions o;
  o.name = options.get_string("name", o.name);
  if (o.name.empty()) options.fail("name", "the rule name cannot be empty");
  o.codes = options.get_string_list("codes");
  if (o.codes.empty()) options.fail("codes", "name at least one vendor code");
  for (const auto& code : o.codes)
    if (code.empty()) options.fail("codes", "a vendor code cannot be empty");
  o.only_kind = options.get_string("only_kind");
  o.kind = options.get_string("kind", o.kind);
  if (o.kind.empty()) options.fail("kind", "the kind cannot be empty");
  o.severity = sdk::parse_severity(options.get_string("severity", "warning")).value();
  if (options.has("breaker"))
    o.breaker = options.get_string("breaker") == "trip" ? sdk::BreakerAction::trip
                                                        : sdk::BreakerAction::ignore;
  return o;
}

VendorCodeRule::VendorCodeRule(const sdk::ConfigView& options, sdk::HostContext&)
    : VendorCodeRule(read_options(options)) {}

VendorCodeRule::VendorCodeRule(VendorCodeOptions options) : options_(std::move(options)) {}

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
  decision.breaker = options_.breaker;
  return decision;
}

}  // namespace vendor_rules
