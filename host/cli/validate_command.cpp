#include <chrono>
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
  bool check_connections = false;
};

// One line per server: "  ok   breakers.backend (redis) redis://127.0.0.1:6379: PONG".
bool report_connections(Runtime& rt) {
  bool all_reachable = true;
  const auto checks = rt.check_connections(std::chrono::seconds(3));
  if (checks.empty()) std::printf("no servers are named in the configuration\n");
  for (const auto& c : checks) {
    all_reachable = all_reachable && c.result.reachable;
    std::printf("%-12s %s (%s) %s: %s\n", c.result.reachable ? "reachable" : "UNREACHABLE",
                c.component.c_str(), c.type.c_str(), c.result.server.c_str(),
                c.result.detail.c_str());
  }
  return all_reachable;
}

int validate(const ValidateArgs& args) {
  RuntimeOptions options = runtime_options(args.paths);
  options.quiet = true;
  options.build = BuildScope::check_only;  // nothing created, truncated or contacted
  auto rt = Runtime::from_file(args.config, options);
  if (args.print) {
    std::fputs(rt->effective_config().c_str(), stdout);
  } else {
    std::printf("%s: configuration is valid (%zu plugins loaded)\n", args.config.c_str(),
                rt->plugins().size());
  }
  if (args.check_connections && !report_connections(*rt)) {
    print_error("some servers named in " + args.config + " cannot be reached");
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ValidateArgs>();
  auto* cmd = app.add_subcommand("validate", "Load and check the configuration and its plugins");
  cmd->add_option("-c,--config", args->config, "Configuration file")->required();
  cmd->add_option("--path", args->paths, "Also search this folder for plugins (repeatable)");
  cmd->add_flag("--print", args->print, "Print the effective configuration, secrets redacted");
  cmd->add_flag("--check-connections", args->check_connections,
                "Also contact every server the configuration names and report each one");
  cmd->callback([args, &exit_code] { exit_code = run_guarded([&] { return validate(*args); }); });
}

}  // namespace crosscut::cli
