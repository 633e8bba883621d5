// The file_log plugin: log sink `rotating_file`.
#include "rotating_file_sink.hpp"

namespace {

crosscut::sdk::PluginDescriptor describe() {
  using crosscut::plugins::file_log::RotatingFileSink;
  return {"file_log",
          "1.0.0",
          {crosscut::sdk::make_factory<RotatingFileSink>(
              "rotating_file", "JSON lines in a size-rotated file, reopened on SIGHUP")}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
