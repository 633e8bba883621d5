// Plugin `record_log`: log sink `record`, publishing log lines through a named record sink.
#include "crosscut/sdk/sdk.hpp"
#include "record_log_sink.hpp"

namespace {

using namespace crosscut::sdk;

PluginDescriptor describe() {
  return {"record_log",
          "1.0.0",
          {make_factory<crosscut::record_log::RecordLogSink>(
              "record",
              "Log lines published as records (e.g. to Kafka) through a sink under `sinks:`")}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
