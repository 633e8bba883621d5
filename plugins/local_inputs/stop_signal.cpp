#include "stop_signal.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace crosscut::local_inputs {
namespace {

int make_eventfd() {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

}  // namespace

StopSignal::StopSignal(std::stop_token token)
    : fd_(make_eventfd()), token_(std::move(token)), callback_(token_, Notify{fd_.get()}) {}

void StopSignal::Notify::operator()() const noexcept {
  const std::uint64_t one = 1;
  // Only fails when the counter would overflow, i.e. it is already readable.
  [[maybe_unused]] const auto n = ::write(fd, &one, sizeof one);
}

WaitResult wait_readable(int fd, const StopSignal& stop, int timeout_ms) {
  pollfd fds[2] = {{stop.fd(), POLLIN, 0}, {fd, POLLIN, 0}};
  const nfds_t count = fd >= 0 ? 2 : 1;
  for (;;) {
    if (stop.requested()) return WaitResult::stopped;
    const int n = ::poll(fds, count, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    if (stop.requested() || fds[0].revents != 0) return WaitResult::stopped;
    if (n == 0) return WaitResult::timeout;
    return WaitResult::ready;  // POLLIN, POLLHUP, POLLERR, POLLNVAL: the read tells which
  }
}

}  // namespace crosscut::local_inputs
