#include "cli_support.hpp"

#include "agent/agent_options.hpp"

#include <cstdio>

#include "crosscut/runtime.hpp"

namespace crosscut::cli {

void print_error(const std::string& message) {
  std::string line = message;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "crosscut: %s\n", line.c_str());
}

int run_guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const ConfigurationError& e) {
    print_error(e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    print_error(e.what());
    return kExitFailure;
  } catch (...) {
    print_error("unexpected failure");
    return kExitFailure;
  }
}

RuntimeOptions runtime_options(const std::vector<std::string>& plugin_paths) {
  RuntimeOptions options;
  options.plugin_paths = plugin_paths;
  options.extension = agent::config_extension();
  return options;
}

}  // namespace crosscut::cli
