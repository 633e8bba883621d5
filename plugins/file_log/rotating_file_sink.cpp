#include "rotating_file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace crosscut::plugins::file_log {
namespace {

constexpr std::size_t kBufferLimit = 64 * 1024;

std::string numbered(const std::string& path, std::uint32_t n) {
  return path + "." + std::to_string(n);
}

}  // namespace

void RotatingFileSink::check_options(const RotatingFileOptions& options,
                                     const sdk::ConfigView& view, sdk::HostContext&) {
  if (options.path.empty()) view.fail("path", "a file path is required");
}

RotatingFileSink::RotatingFileSink(const RotatingFileOptions& options, sdk::HostContext&)
    : RotatingFileSink(options) {}

RotatingFileSink::RotatingFileSink(RotatingFileOptions options) : options_(std::move(options)) {
  open_file();
}

RotatingFileSink::~RotatingFileSink() {
  write_buffer();
  close_file();
}

void RotatingFileSink::report(const std::string& what, int err) noexcept {
  if (failing_) return;
  failing_ = true;
  std::fprintf(stderr, "crosscut: rotating_file log sink: %s %s: %s (failed records are counted)\n",
               what.c_str(), options_.path.c_str(), std::strerror(err));
}

bool RotatingFileSink::open_file() noexcept {
  fd_ = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    report("cannot open", errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd_, &st) == 0) {
    regular_ = S_ISREG(st.st_mode);
    size_ = regular_ ? static_cast<std::uint64_t>(st.st_size) : 0;
  }
  return true;
}

void RotatingFileSink::close_file() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RotatingFileSink::write_buffer() noexcept {
  if (buffer_.empty()) return;
  std::size_t done = 0;
  int err = 0;
  if (fd_ < 0 && !open_file()) err = errno ? errno : EBADF;
  while (err == 0 && done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n > 0)
      done += static_cast<std::size_t>(n);
    else if (n < 0 && errno == EINTR)
      continue;
    else
      err = n < 0 ? errno : EIO;
  }
  if (err != 0) {
    // Whole records only are counted; a partly written line is counted as failed.
    failures_.fetch_add(buffered_records_);
    report("cannot write", err);
  } else {
    failing_ = false;
  }
  buffer_.clear();
  buffered_records_ = 0;
}

void RotatingFileSink::rotate() noexcept {
  write_buffer();
  close_file();
  if (options_.max_files == 0) {
    ::unlink(options_.path.c_str());
  } else {
    ::unlink(numbered(options_.path, options_.max_files).c_str());
    for (std::uint32_t i = options_.max_files; i > 1; --i)
      ::rename(numbered(options_.path, i - 1).c_str(), numbered(options_.path, i).c_str());
    if (::rename(options_.path.c_str(), numbered(options_.path, 1).c_str()) != 0 && errno != ENOENT)
      report("cannot rotate", errno);
  }
  size_ = 0;
  open_file();
}

void RotatingFileSink::write(const sdk::LogRecord& record) noexcept {
  const std::uint64_t line = record.json.size() + 1;
  if (fd_ < 0 && !open_file()) {
    failures_.fetch_add(1);
    return;
  }
  if (regular_ && options_.max_size.bytes > 0 && size_ > 0 &&
      size_ + line > options_.max_size.bytes)
    rotate();
  try {
    buffer_.append(record.json);
    buffer_ += '\n';
  } catch (...) {
    failures_.fetch_add(1);
    return;
  }
  ++buffered_records_;
  size_ += line;
  if (buffer_.size() >= kBufferLimit) write_buffer();
}

void RotatingFileSink::flush() noexcept {
  write_buffer();
}

void RotatingFileSink::reopen() noexcept {
  write_buffer();
  close_file();
  failing_ = false;  // a new file: report its problems afresh
  open_file();
}

}  // namespace crosscut::plugins::file_log
