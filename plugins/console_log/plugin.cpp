// The console_log plugin: log sink `console`.
#include "console_log_sink.hpp"

namespace {

crosscut::sdk::PluginDescriptor describe() {
  using crosscut::plugins::console_log::ConsoleLogSink;
  return {"console_log",
          "1.0.0",
          {crosscut::sdk::make_factory<ConsoleLogSink>(
              "console", "log records on stderr/stdout, JSON or pretty")}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
