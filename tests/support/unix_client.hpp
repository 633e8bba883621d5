// A client of a Unix stream socket, for tests that talk to the agent's socket input.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace crosscut::testing {

// A connected socket, or -1 when nothing accepts at `path`.
inline int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Writes all of `data`; false when the connection was closed under the writer (no SIGPIPE).
inline bool send_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads whole lines (replies) from a client socket, each within a time limit.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // The next line without its newline, or "" when none came within `limit` or the server
  // closed the connection (at_eof() then).
  std::string next(std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto nl = buffer_.find('\n', scanned_);
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(start_, nl - start_);
        start_ = scanned_ = nl + 1;
        if (start_ > (1U << 20)) {  // keeps the buffer short without moving it every line
          buffer_.erase(0, start_);
          start_ = scanned_ = 0;
        }
        return line;
      }
      scanned_ = buffer_.size();
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {};
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
        eof_ = n == 0;
        return {};
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  bool at_eof() const { return eof_; }

 private:
  int fd_;
  std::string buffer_;
  std::size_t start_ = 0;    // where the next line begins
  std::size_t scanned_ = 0;  // searched for a newline up to here
  bool eof_ = false;
};

}  // namespace crosscut::testing
