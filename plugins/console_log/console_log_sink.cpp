#include "console_log_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pretty_line.hpp"

namespace crosscut::plugins::console_log {

ConsoleLogSink::ConsoleLogSink(const ConsoleOptions& options, sdk::HostContext&)
    : ConsoleLogSink(options, nullptr) {}

ConsoleLogSink::ConsoleLogSink(ConsoleOptions options, std::FILE* stream)
    : options_(options),
      stream_(stream ? stream : (options.stream == Stream::standard_output ? stdout : stderr)) {
  colour_ = options_.format == Format::pretty && ::isatty(::fileno(stream_)) == 1;
}

void ConsoleLogSink::write(const sdk::LogRecord& record) noexcept {
  try {
    line_.clear();
    if (options_.format == Format::json)
      line_.append(record.json);
    else
      append_pretty_line(line_, record, colour_);
    line_ += '\n';
  } catch (...) {
    failures_.fetch_add(1);
    return;
  }
  // One fwrite per line: on unbuffered stderr that is one write(2), so lines do not interleave.
  if (std::fwrite(line_.data(), 1, line_.size(), stream_) == line_.size()) {
    failing_ = false;
    return;
  }
  const int err = errno;
  std::clearerr(stream_);
  failures_.fetch_add(1);
  if (!failing_) {
    failing_ = true;
    std::fprintf(stderr,
                 "crosscut: console log sink: write failed: %s (further failures counted)\n",
                 std::strerror(err));
  }
}

void ConsoleLogSink::flush() noexcept {
  std::fflush(stream_);
}

}  // namespace crosscut::plugins::console_log
