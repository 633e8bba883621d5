// Turns a std::stop_token into a file descriptor an input can poll next to the ones it reads,
// so a thread blocked in poll/epoll wakes up as soon as stop is requested.
#pragma once

#include <stop_token>

#include "unique_fd.hpp"

namespace crosscut::local_inputs {

// Owns an eventfd that becomes (and stays) readable once `token` is stopped. Not copyable;
// create one per run() on the input's own thread. Throws std::system_error if no eventfd can
// be created.
class StopSignal {
 public:
  explicit StopSignal(std::stop_token token);
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  int fd() const { return fd_.get(); }
  bool requested() const { return token_.stop_requested(); }

 private:
  struct Notify {
    int fd;
    void operator()() const noexcept;
  };
  UniqueFd fd_;
  std::stop_token token_;
  std::stop_callback<Notify> callback_;  // after fd_: registered once the eventfd exists
};

enum class WaitResult { ready, stopped, timeout };

// Waits until `fd` is readable (or hung up), stop is requested, or `timeout_ms` passed
// (negative: no timeout). `fd` < 0 waits on the stop signal alone.
WaitResult wait_readable(int fd, const StopSignal& stop, int timeout_ms);

}  // namespace crosscut::local_inputs
