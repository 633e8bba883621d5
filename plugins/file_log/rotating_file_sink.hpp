// Log sink `rotating_file`: JSON lines appended to a file that is rotated by size
// (app.log -> app.log.1 -> ... -> app.log.<max_files>, the oldest removed) and reopened on
// request (SIGHUP after an external logrotate).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "crosscut/sdk/sdk.hpp"
#include "rotating_file_options.hpp"

namespace crosscut::plugins::file_log {

// Called from the host's logging thread only. Lines are buffered (up to 64 KiB) and written
// on flush(), which the host calls at least once a second. Failures — the file cannot be
// opened, the disk is full, the path became unwritable — are counted per record and
// reported on stderr once per run of failures; opening is retried on later writes and on
// reopen(). Never throws from write/flush/reopen.
class RotatingFileSink final : public sdk::LogSink {
 public:
  static const sdk::OptionTable<RotatingFileOptions>& options_table() {
    return rotating_file_options_table();
  }

  // An empty `path` is a ConfigError at the key (`required` only refuses an absent one).
  static void check_options(const RotatingFileOptions& options, const sdk::ConfigView& view,
                            sdk::HostContext& host);
  RotatingFileSink(const RotatingFileOptions& options, sdk::HostContext& host);
  explicit RotatingFileSink(RotatingFileOptions options);
  ~RotatingFileSink() override;

  void write(const sdk::LogRecord& record) noexcept override;
  void flush() noexcept override;
  void reopen() noexcept override;
  std::uint64_t failures() const noexcept override { return failures_.load(); }

 private:
  bool open_file() noexcept;
  void close_file() noexcept;
  void rotate() noexcept;
  void write_buffer() noexcept;
  void report(const std::string& what, int err) noexcept;

  RotatingFileOptions options_;
  int fd_ = -1;
  bool regular_ = true;     // only regular files are rotated (never /dev/stderr and such)
  std::uint64_t size_ = 0;  // bytes in the active file, written or buffered
  std::string buffer_;
  std::uint64_t buffered_records_ = 0;
  bool failing_ = false;
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace crosscut::plugins::file_log
