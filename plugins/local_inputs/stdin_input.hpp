// Input `stdin`: an FdLineInput over fd 0, built from its options.
#pragma once

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "fd_line_input.hpp"
#include "input_options.hpp"

namespace crosscut::local_inputs {

class StdinInput final : public FdLineInput {
 public:
  static const sdk::OptionTable<StdinInputOptions>& options_table() {
    return stdin_input_options();
  }
  // A max_line over kMaxLineCap is a ConfigError at the option. Opens nothing.
  static void check_options(const StdinInputOptions& options, const sdk::ConfigView& view,
                            sdk::HostContext& host);
  // From checked options.
  StdinInput(const StdinInputOptions& options, sdk::HostContext& host);
};

}  // namespace crosscut::local_inputs
