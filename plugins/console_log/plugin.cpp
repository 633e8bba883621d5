// The console_log plugin: log sink `console`.
#include "console_log_sink.hpp"

namespace {

crosscut::sdk::PluginDescriptor describe() {
  using crosscut::plugins::console_log::ConsoleLogSink;
  return {"console_log",
          "1.0.0",
          {crosscut::sdk::make_factory<ConsoleLogSink>(
              crosscut::sdk::ComponentKind::log_sink, "console",
              "log records on stderr/stdout, JSON or pretty", ConsoleLogSink::schema())}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
