#include "cli_support.hpp"

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

}  // namespace crosscut::cli
