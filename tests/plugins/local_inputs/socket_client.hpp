// Client-side helpers for the tests of the `unix` input: connecting, sending, noticing that the
// server hung up, and running an input on a thread of its own.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stop_token>
#include <string_view>
#include <thread>

#include "crosscut/sdk/input.hpp"
#include "local_inputs/unique_fd.hpp"

namespace crosscut::local_inputs::testing {

inline sockaddr_un address_of(const std::filesystem::path& p) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, p.c_str(), sizeof a.sun_path - 1);
  return a;
}

// A connected client socket, or an invalid one with errno set.
inline UniqueFd connect_to(const std::filesystem::path& p) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const auto a = address_of(p);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) return UniqueFd();
  return fd;
}

inline void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << std::strerror(errno);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Like send_all, but a server that closed the connection is an answer, not a failure: false
// then (EPIPE, ECONNRESET).
inline bool send_unless_closed(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Waits up to `limit` for the server to close the connection (with a host that does not reply
// the input never writes to its clients, so anything readable is the end of the stream). True on
// end of file or reset.
inline bool closed_by_server(int fd, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return false;
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    char c;
    const auto got = ::recv(fd, &c, 1, MSG_DONTWAIT);
    return got == 0 || (got < 0 && errno == ECONNRESET);
  }
}

// Whether the server still holds the connection open right now (nothing to read, no hang-up).
inline bool still_open(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 0;
}

// Runs an input on its own thread; stops and joins it on destruction.
struct Running {
  sdk::Input& input;
  sdk::InputSink& sink;
  std::jthread thread{[this](std::stop_token stop) { input.run(sink, stop); }};
  void stop() {
    thread.request_stop();
    thread.join();
  }
};

}  // namespace crosscut::local_inputs::testing
