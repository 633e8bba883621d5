#include "stdin_input.hpp"

#include <unistd.h>

#include <cstddef>

namespace crosscut::local_inputs {

void StdinInput::check_options(const StdinInputOptions& options, const sdk::ConfigView& view,
                               sdk::HostContext&) {
  check_max_line(options.max_line, view);
}

StdinInput::StdinInput(const StdinInputOptions& options, sdk::HostContext&)
    : FdLineInput(STDIN_FILENO, "stdin", static_cast<std::size_t>(options.max_line.bytes)) {}

}  // namespace crosscut::local_inputs
