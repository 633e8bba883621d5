// The vendor_rules plugin: what it provides, behind the one entry point the host looks for.
#include "error_ledger_handler.hpp"
#include "vendor_code_rule.hpp"

namespace {

crosscut::sdk::PluginDescriptor describe() {
  namespace sdk = crosscut::sdk;
  return {"vendor_rules",
          "1.0.0",
          {sdk::make_factory<vendor_rules::VendorCodeRule>(
               "vendor_code", "classifies errors whose message carries a vendor code"),
           sdk::make_factory<vendor_rules::ErrorLedgerHandler>(
               "error_ledger", "appends one line per error event to a file")}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
