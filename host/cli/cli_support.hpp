// What every `crosscut` subcommand shares: exit codes and turning failures into one line.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "crosscut/runtime.hpp"

namespace crosscut::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime failure
inline constexpr int kExitUsage = 2;    // usage or configuration error

// Runs `body`, mapping ConfigurationError to exit 2 and any other failure to exit 1, each
// printed as one line "crosscut: <message>" on stderr.
int run_guarded(const std::function<int()>& body);

// The options every command loads a configuration with: the plugin folders given with --path
// and the agent's configuration extension, so that every command accepts and checks the same
// file.
RuntimeOptions runtime_options(const std::vector<std::string>& plugin_paths);

// Prints "crosscut: <message>" on stderr (one line: newlines in `message` become spaces).
void print_error(const std::string& message);

}  // namespace crosscut::cli
