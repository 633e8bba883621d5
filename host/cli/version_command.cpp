#include <cstdio>

#include "commands.hpp"
#include "crosscut/sdk/abi.hpp"
#include "crosscut/version.hpp"

namespace crosscut::cli {

void add_version_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("version", "Print the version, SDK ABI and compiler ABI");
  cmd->callback([&exit_code] {
    std::printf("crosscut %s (SDK ABI %d, compiler ABI %s)\n", crosscut::version(),
                CROSSCUT_SDK_ABI_VERSION, CROSSCUT_SDK_COMPILER_ABI);
    exit_code = 0;
  });
}

}  // namespace crosscut::cli
