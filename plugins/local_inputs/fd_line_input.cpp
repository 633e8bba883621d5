#include "fd_line_input.hpp"

#include <cerrno>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

#include "line_splitter.hpp"
#include "read_chunk.hpp"
#include "stop_signal.hpp"

namespace crosscut::local_inputs {

FdLineInput::FdLineInput(int fd, std::string name, std::size_t max_line)
    : fd_(fd), name_(std::move(name)), max_line_(max_line) {}

void FdLineInput::run(sdk::InputSink& sink, std::stop_token stop_token) {
  StopSignal stop(std::move(stop_token));
  LineSplitter lines(sink, name_, max_line_);
  const auto buffer = std::make_unique_for_overwrite<char[]>(kReadChunk);
  for (;;) {
    // Waiting first keeps a blocking read from outliving a stop request (a pipe or a tty);
    // for a redirected regular file the fd is always ready and this costs one poll a chunk.
    if (wait_readable(fd_, stop, -1) == WaitResult::stopped) return;
    const ssize_t n = read_some(fd_, buffer.get(), kReadChunk);
    if (n > 0) {
      lines.feed(std::string_view(buffer.get(), static_cast<std::size_t>(n)));
    } else if (n == 0) {
      lines.finish();
      return;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      throw std::system_error(errno, std::generic_category(), "reading " + name_);
    }
  }
}

}  // namespace crosscut::local_inputs
