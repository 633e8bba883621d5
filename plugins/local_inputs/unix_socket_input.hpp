// Input `unix`: a listening Unix stream socket; every client sends NDJSON lines.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <stop_token>
#include <string>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/input.hpp"
#include "crosscut/sdk/log.hpp"
#include "input_options.hpp"
#include "unique_fd.hpp"

namespace crosscut::local_inputs {

// The constructor claims the path and listens, so a refusal happens before the agent starts:
// a socket file nobody listens on (connect() is refused) is replaced; a live socket, a path
// that is not a socket, or a path too long for sun_path throw std::runtime_error naming the
// path. The socket gets `mode` before it accepts connections.
//
// run() serves every client from one thread (epoll) until stop, then closes them and removes
// the socket file (only if the path still names the socket made here; the destructor does
// the same if run() never ran). Each connection is its own stream: input name
// "unix:<path>#<n>", n = 1, 2, … in order of connection, line numbers from 1 per connection.
// A last line a client leaves unterminated when it disconnects is delivered; lines pending
// when stop comes are dropped.
class UnixSocketInput : public sdk::Input {
 public:
  UnixSocketInput(UnixSocketOptions options, sdk::Logger& logger);
  // From options (logging as `unix_input`): the values the host cannot check, the mode among
  // them, are ConfigErrors at the option.
  static const sdk::OptionTable<UnixSocketOptions>& options_table() { return unix_input_options(); }
  UnixSocketInput(const UnixSocketOptions& options, const sdk::ConfigView& view,
                  sdk::HostContext& host);
  ~UnixSocketInput() override;
  void run(sdk::InputSink& sink, std::stop_token stop) override;

 private:
  void claim_path();
  void release_path();

  UnixSocketOptions options_;
  sdk::Logger& logger_;
  UniqueFd listener_;
  dev_t socket_dev_ = 0;
  ino_t socket_ino_ = 0;
};

}  // namespace crosscut::local_inputs
