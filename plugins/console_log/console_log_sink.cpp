#include "console_log_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pretty_line.hpp"

namespace crosscut::plugins::console_log {

ConsoleLogSink::ConsoleLogSink(const ConsoleOptions& options, sdk::HostContext& host)
    : ConsoleLogSink(options, nullptr, &host) {}

ConsoleLogSink::ConsoleLogSink(ConsoleOptions options, std::FILE* stream, sdk::HostContext* host)
    : options_(options),
      stream_(stream ? stream : (options.stream == Stream::standard_output ? stdout : stderr)),
      host_(host) {
  colour_ = options_.format == Format::pretty && ::isatty(::fileno(stream_)) == 1;
}

ConsoleLogSink::~ConsoleLogSink() = default;  // joins notice_

void ConsoleLogSink::write(const sdk::LogRecord& record) noexcept {
  if (gone_) {
    failures_.fetch_add(1);
    return;
  }
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
  if (err == EPIPE || err == EIO || err == EBADF) {
    gone_ = true;
    report_gone(err);
    return;
  }
  if (!failing_) {
    failing_ = true;
    std::fprintf(stderr,
                 "crosscut: console log sink: write failed: %s (further failures counted)\n",
                 std::strerror(err));
  }
}

void ConsoleLogSink::report_gone(int err) noexcept {
  if (host_ == nullptr) return;
  try {
    const char* name = stream_ == stdout ? "stdout" : stream_ == stderr ? "stderr" : "its stream";
    sdk::ErrorEvent e;
    e.kind = "log_sink";
    e.info.type = "LogStreamClosed";
    e.info.message = std::string("console log sink: ") + name + " is closed (" +
                     std::strerror(err) +
                     "); its log lines are no longer written and are "
                     "counted as sink failures";
    e.target = {"crosscut", "local", "console_log"};
    e.timestamp = host_->clock().now();
    notice_ = std::jthread(
        [host = host_, e = std::move(e)]() mutable { host->report_error(std::move(e)); });
  } catch (...) {
    // No thread for the notice: the failures are still counted.
  }
}

void ConsoleLogSink::flush() noexcept {
  std::fflush(stream_);
}

}  // namespace crosscut::plugins::console_log
