// Log sink `console`: records on stderr (default) or stdout, as the JSON line or as a
// human-readable "pretty" line (coloured by level when the stream is a terminal).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include "console_options.hpp"
#include "crosscut/sdk/sdk.hpp"

namespace crosscut::plugins::console_log {

// The host calls write/flush from its logging thread only; write() never throws. A failed
// write is counted and reported once on stderr per run of failures. A stream that is gone
// (EPIPE: the reader left; EIO, EBADF) is written to no more: every later record is counted
// as a failure, and the host hears of it once as an error report (kind `log_sink`), which
// reaches the other sinks — a report made from a thread of its own, since the logging thread
// must not wait on itself.
class ConsoleLogSink final : public sdk::LogSink {
 public:
  static const sdk::OptionTable<ConsoleOptions>& options_table() { return console_options_table(); }

  ConsoleLogSink(const ConsoleOptions& options, sdk::HostContext& host);
  // For tests and embedding: writes to `stream` (not owned); colours when it is a terminal.
  ConsoleLogSink(ConsoleOptions options, std::FILE* stream, sdk::HostContext* host = nullptr);
  ~ConsoleLogSink() override;

  void write(const sdk::LogRecord& record) noexcept override;
  void flush() noexcept override;
  std::uint64_t failures() const noexcept override { return failures_.load(); }

 private:
  void report_gone(int err) noexcept;

  ConsoleOptions options_;
  std::FILE* stream_;
  bool colour_ = false;
  bool failing_ = false;
  std::string line_;
  std::atomic<std::uint64_t> failures_{0};
  sdk::HostContext* host_ = nullptr;  // null: nobody to tell that the stream is gone
  bool gone_ = false;
  std::jthread notice_;  // reports the stream gone, once
};

}  // namespace crosscut::plugins::console_log
