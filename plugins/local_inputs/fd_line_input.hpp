// Input `stdin`: NDJSON lines read from a file descriptor (fd 0 in the plugin) until end of
// file or stop.
#pragma once

#include <cstddef>
#include <stop_token>
#include <string>

#include "crosscut/sdk/input.hpp"

namespace crosscut::local_inputs {

// Reads `fd` (not owned, not made non-blocking: it may be shared with the parent shell) in
// large chunks. run() returns at end of file, after delivering an unterminated last line, or
// soon after stop is requested (a pending partial line is then dropped). A read error throws
// std::system_error. run() is called once.
class FdLineInput : public sdk::Input {
 public:
  FdLineInput(int fd, std::string name, std::size_t max_line);
  void run(sdk::InputSink& sink, std::stop_token stop) override;

 private:
  int fd_;
  std::string name_;
  std::size_t max_line_;
};

}  // namespace crosscut::local_inputs
