#include <cstdio>

#include "cli_support.hpp"
#include "commands.hpp"
#include "crosscut/runtime.hpp"

namespace crosscut::cli {
namespace {

struct ValidateArgs {
  std::string config;
  std::vector<std::string> paths;
  bool print = false;
};

int validate(const ValidateArgs& args) {
  RuntimeOptions options = runtime_options(args.paths);
  options.quiet = true;
  options.open_spools = false;
  auto rt = Runtime::from_file(args.config, options);
  if (args.print) {
    std::fputs(rt->effective_config().c_str(), stdout);
  } else {
    std::printf("%s: configuration is valid (%zu plugins loaded)\n", args.config.c_str(),
                rt->plugins().size());
  }
  // Nothing was published: whether unreachable servers could confirm delivery at shutdown says
  // nothing about the configuration.
  rt->shutdown(std::chrono::seconds(2));
  return kExitOk;
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ValidateArgs>();
  auto* cmd = app.add_subcommand("validate", "Load and check the configuration and its plugins");
  cmd->add_option("-c,--config", args->config, "Configuration file")->required();
  cmd->add_option("--path", args->paths, "Also search this folder for plugins (repeatable)");
  cmd->add_flag("--print", args->print, "Print the effective configuration, secrets redacted");
  cmd->callback([args, &exit_code] { exit_code = run_guarded([&] { return validate(*args); }); });
}

}  // namespace crosscut::cli
