// The subcommands of `crosscut`, each registered on the CLI11 app by its own file.
#pragma once

#include <CLI/CLI.hpp>

namespace crosscut::cli {

// Each adds its subcommand; the callback sets `exit_code`.
void add_version_command(CLI::App& app, int& exit_code);
void add_plugins_command(CLI::App& app, int& exit_code);
void add_validate_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_breaker_command(CLI::App& app, int& exit_code);

}  // namespace crosscut::cli
