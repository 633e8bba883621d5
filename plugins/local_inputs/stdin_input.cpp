#include "stdin_input.hpp"

#include <unistd.h>

#include <cstddef>

namespace crosscut::local_inputs {
namespace {

std::size_t checked_max_line(const StdinInputOptions& options, const sdk::ConfigView& view) {
  check_max_line(options.max_line, view);
  return static_cast<std::size_t>(options.max_line.bytes);
}

}  // namespace

StdinInput::StdinInput(const StdinInputOptions& options, const sdk::ConfigView& view,
                       sdk::HostContext&)
    : FdLineInput(STDIN_FILENO, "stdin", checked_max_line(options, view)) {}

}  // namespace crosscut::local_inputs
