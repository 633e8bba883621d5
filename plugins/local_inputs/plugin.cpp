// The local_inputs plugin: agent-mode inputs `stdin`, `file` and `unix`, each delivering
// NDJSON lines to the host.
#include "crosscut/sdk/sdk.hpp"
#include "file_input.hpp"
#include "stdin_input.hpp"
#include "unix_socket_input.hpp"

namespace {

using namespace crosscut::sdk;
namespace local = crosscut::local_inputs;

PluginDescriptor describe() {
  return {"local_inputs",
          "1.0.0",
          {make_factory<local::StdinInput>("stdin",
                                           "NDJSON lines from standard input, until end of file"),
           make_factory<local::FileInput>(
               "file", "NDJSON lines from a file, read once or followed like tail -F"),
           make_factory<local::UnixSocketInput>(
               "unix", "NDJSON lines from clients of a Unix stream socket")}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
