// crosscut: the command line. Exit 0 success, 1 runtime failure, 2 usage or
// configuration error; every error is one line on stderr.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <string>
#include <string_view>

#include "cli_support.hpp"
#include "commands.hpp"

namespace {

// A descriptor 0, 1 or 2 the parent closed would be handed to the next file opened (a log
// file, an eventfd) and then written to or read as if it were stdout or stdin: hold each one
// with /dev/null before anything else opens a file.
void hold_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int opened = ::open("/dev/null", O_RDWR);
    // open() returns the lowest free descriptor, which is `fd` here.
    if (opened >= 0 && opened != fd) ::close(opened);
  }
}

// A closed pipe on stdout or stderr is an EPIPE for the sink writing there, not the end of the
// process; the signals people send by mistake or habit end nothing either (`run` takes its
// own signals on a thread of its own).
void ignore_stray_signals() {
  for (int s : {SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM}) ::signal(s, SIG_IGN);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace crosscut::cli;
  hold_standard_descriptors();
  ignore_stray_signals();
  CLI::App app{"crosscut: cross-cutting runtime for market-data pipelines", "crosscut"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");
  int exit_code = kExitOk;
  add_version_command(app, exit_code);
  add_plugins_command(app, exit_code);
  add_validate_command(app, exit_code);
  add_run_command(app, exit_code);
  add_breaker_command(app, exit_code);
  // CLI11 would call a word that names no command a missing subcommand.
  if (argc > 1 && argv[1][0] != '-') {
    std::string known;
    bool found = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      found = found || sub->get_name() == argv[1];
      known += (known.empty() ? "" : ", ") + sub->get_name();
    }
    if (!found) {
      print_error("unknown command '" + std::string(argv[1]) + "' (commands: " + known +
                  "; see crosscut --help)");
      return kExitUsage;
    }
  }
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
