#include <signal.h>

#include <cstdio>

#include "cli_support.hpp"
#include "commands.hpp"
#include "crosscut/runtime.hpp"

namespace crosscut::cli {
namespace {

struct RunArgs {
  std::string config;
  std::vector<std::string> paths;
};

int run_agent(const RunArgs& args) {
  // Block the stop signals in every thread (threads inherit the mask) and take them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  RuntimeOptions options;
  options.plugin_paths = args.paths;
  options.build_inputs = true;
  auto rt = Runtime::from_file(args.config, options);
  rt->host().logger("agent", "app").info("crosscut agent started", {{"config", args.config}});
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) continue;
    rt->host()
        .logger("agent", "app")
        .info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  return rt->shutdown() ? kExitOk : kExitFailure;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "Run the agent until SIGTERM/SIGINT (or until every input has ended)");
  cmd->add_option("-c,--config", args->config, "Configuration file")->required();
  cmd->add_option("--path", args->paths, "Also search this folder for plugins (repeatable)");
  cmd->callback([args, &exit_code] { exit_code = run_guarded([&] { return run_agent(*args); }); });
}

}  // namespace crosscut::cli
