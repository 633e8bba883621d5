// Input `unix`: a listening Unix stream socket; every client sends NDJSON lines.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stop_token>
#include <string>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/input.hpp"
#include "crosscut/sdk/log.hpp"
#include "input_options.hpp"
#include "unique_fd.hpp"

namespace crosscut::local_inputs {

// What run() has done with connections so far.
struct UnixSocketCounters {
  std::uint64_t served = 0;           // accepted and read
  std::uint64_t refused = 0;          // closed at once: max_clients were being served
  std::uint64_t closed_idle = 0;      // disconnected after idle_timeout without a byte
  std::uint64_t replies_dropped = 0;  // owed to a client that was gone before they were written
};

// The constructor claims the path and listens, so a refusal happens before the agent starts:
// a socket file nobody listens on (connect() is refused) is replaced; a live socket, a path
// that is not a socket, or a path too long for sun_path throw std::runtime_error naming the
// path. The socket gets `mode` before it accepts connections.
//
// run() serves every client from one thread (epoll). Each connection is its own stream: input
// name "unix:<path>#<n>", n = 1, 2, … in order of connection, line numbers from 1 per
// connection. No client holds up another: a turn reads at most one chunk from each ready
// client and accepts a bounded number of connections, so a flood, a huge line or a storm of
// connects only slows its own stream.
//  - A connection while max_clients are served is accepted and closed at once (the client
//    reads end of file), counted, and reported in a warning at most once a minute.
//  - A client that sends nothing for idle_timeout is disconnected and counted.
//  - A last line a client leaves unterminated is delivered when it disconnects or is
//    disconnected for idleness.
//  - On stop, run() first reads what clients had already sent (connections still in the
//    listen backlog too) for at most about 100 ms, delivers those lines, then closes every
//    client, removes the socket file (only if the path still names the socket made here; the
//    destructor does the same if run() never ran), logs "unix input stopped" with the
//    counters, and returns. A partial line of a client still connected is dropped then: it
//    may be a write in progress.
// Replies: when the sink is also an sdk::RequestSink, each connection's lines go to
// on_request_line with a ConnectionReplies of its own, and the replies are written back in
// request order, without blocking: what a client does not read waits in memory, and a
// connection owed more than 4 MiB (or 65536 replies) is not read until it is down to 1 MiB
// (16384), so one client that pipelines without reading holds up only itself. A client that
// shuts down its sending side is kept until it has been written everything it is owed; one
// owed a reply is never closed as idle. On stop, after reading, the replies made are written for
// at most about 500 ms more. Replies that could not be written (the client left, or stop) are
// counted in replies_dropped.
// Memory: at most max_clients partial lines of max_line bytes each, plus one read buffer, plus
// what is owed to each client (bounded as above, plus one read chunk's replies).
//
// counters() may be called from any thread. Built by the factory, the input also adds each
// count to the host's metrics unix_input.clients_served, unix_input.clients_refused,
// unix_input.clients_closed_idle and unix_input.replies_dropped.
class UnixSocketInput : public sdk::Input {
 public:
  // From options already checked (check_options): max_clients, idle_timeout or max_line out of
  // their bounds throw std::invalid_argument. Logs to `logger`, adds to no host metric.
  UnixSocketInput(UnixSocketOptions options, sdk::Logger& logger);

  static const sdk::OptionTable<UnixSocketOptions>& options_table() { return unix_input_options(); }
  // The values the table cannot check, the mode among them, are ConfigErrors at the option.
  // Creates nothing: the socket file is left alone.
  static void check_options(const UnixSocketOptions& options, const sdk::ConfigView& view,
                            sdk::HostContext& host);
  // From checked options and the view's `mode`; logs as `unix_input`.
  UnixSocketInput(const UnixSocketOptions& options, const sdk::ConfigView& view,
                  sdk::HostContext& host);
  ~UnixSocketInput() override;

  void run(sdk::InputSink& sink, std::stop_token stop) override;
  UnixSocketCounters counters() const;

 private:
  class Session;  // one run(): the clients and the event loop

  UnixSocketInput(UnixSocketOptions options, sdk::Logger& logger, sdk::HostContext* metrics);
  void claim_path();
  void release_path();
  void count(std::atomic<std::uint64_t>& counter, std::string_view metric, std::uint64_t n = 1);

  UnixSocketOptions options_;
  sdk::Logger& logger_;
  sdk::HostContext* metrics_;  // null: counters() only
  UniqueFd listener_;
  dev_t socket_dev_ = 0;
  ino_t socket_ino_ = 0;
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> closed_idle_{0};
  std::atomic<std::uint64_t> replies_dropped_{0};
};

}  // namespace crosscut::local_inputs
