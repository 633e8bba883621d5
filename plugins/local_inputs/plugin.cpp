// The local_inputs plugin: agent-mode inputs `stdin`, `file` and `unix`, each delivering
// NDJSON lines to the host.
#include <unistd.h>

#include <memory>

#include "crosscut/sdk/sdk.hpp"
#include "fd_line_input.hpp"
#include "file_input.hpp"
#include "input_options.hpp"
#include "unix_socket_input.hpp"

namespace {

using namespace crosscut::sdk;
namespace local = crosscut::local_inputs;

std::unique_ptr<Component> make_stdin(const ConfigView& options, HostContext&) {
  return std::make_unique<local::FdLineInput>(STDIN_FILENO, "stdin", local::read_max_line(options));
}

std::unique_ptr<Component> make_file(const ConfigView& options, HostContext&) {
  return std::make_unique<local::FileInput>(local::read_file_options(options));
}

std::unique_ptr<Component> make_unix(const ConfigView& options, HostContext& host) {
  return std::make_unique<local::UnixSocketInput>(local::read_unix_options(options),
                                                  host.logger("unix_input", "app"));
}

PluginDescriptor describe() {
  return {"local_inputs",
          "1.0.0",
          {ComponentFactory{ComponentKind::input, "stdin",
                            "NDJSON lines from standard input, until end of file",
                            local::stdin_schema(), make_stdin},
           ComponentFactory{ComponentKind::input, "file",
                            "NDJSON lines from a file, read once or followed like tail -F",
                            local::file_schema(), make_file},
           ComponentFactory{ComponentKind::input, "unix",
                            "NDJSON lines from clients of a Unix stream socket",
                            local::unix_schema(), make_unix}}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
