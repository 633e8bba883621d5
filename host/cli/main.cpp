// crosscut: the command line. Exit 0 success, 1 runtime failure, 2 usage or
// configuration error; every error is one line on stderr.
#include <CLI/CLI.hpp>

#include "cli_support.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  using namespace crosscut::cli;
  CLI::App app{"crosscut: cross-cutting runtime for market-data pipelines", "crosscut"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");
  int exit_code = kExitOk;
  add_version_command(app, exit_code);
  add_plugins_command(app, exit_code);
  add_validate_command(app, exit_code);
  add_run_command(app, exit_code);
  add_breaker_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(std::string(e.what()) + " (see crosscut --help)");
    return kExitUsage;
  }
  return exit_code;
}
