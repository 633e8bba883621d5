// A record sink writing NDJSON lines to a file descriptor from its own writer thread: the
// `stdout` and `file` record sinks.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/record_sink.hpp"
#include "sink_options.hpp"

namespace crosscut::stdio_sink {

// Thread-safety: as sdk::RecordSink (publish/stats from any thread, flush from any one).
// publish() renders nothing and does no I/O: it queues the record and wakes the writer, which
// renders batches (append_ndjson_line) and writes each batch with as few write(2) calls as it
// can. Each record's receipt completes once its line is written completely (delivered), or
// when the write fails: ENOSPC, EDQUOT and EIO are retriable, anything else (EPIPE, EBADF,
// EFBIG...) permanent, with the errno name as `kind` and strerror as `reason`. Every record of
// the batch from the one whose line was cut off completes with that failure; none is lost. A
// failed write is logged once per outage (and once more when writing works again); the sink
// never throws or crashes on I/O errors, and SIGPIPE is blocked on the writer thread (a closed
// pipe is an EPIPE failure).
//
// A pipe, a socket or a terminal (a descriptor that waits for its reader) is written in
// chunks of at most PIPE_BUF bytes, each after poll(POLLOUT) says it fits, so that the writer
// does not block in write(2) and notices that the sink is stopping; files and devices are
// written a batch at a time. The descriptor's flags are left alone (stdout's file description
// is shared with other processes). Another writer on the same pipe can still take the room
// between the poll and the write: the writer then blocks until the reader reads.
//
// Destruction stops accepting records and writes everything already queued, for at most
// QueueOptions::stop_timeout: what is still unwritten then completes as retriable (kind
// "EAGAIN"), so an output that never drains cannot hang it. Then it joins the writer.
//
// The `stdout` and `file` components derive from it (stdio_sinks.hpp) to be built from options.
class FdRecordSink : public sdk::CountingRecordSink {
 public:
  // `name` names the sink in log messages ("stdout", "file /var/log/x.ndjson").
  // When `owns_fd`, the descriptor is closed on destruction.
  FdRecordSink(int fd, bool owns_fd, std::string name, QueueOptions options, sdk::Logger& log);
  ~FdRecordSink() override;

  bool publish(sdk::Record record) override;
  // Waits until every record accepted before the call has been completed.
  bool flush(std::chrono::steady_clock::time_point deadline) override;

  // Records whose payload was not one valid JSON document (written as a JSON string).
  std::uint64_t invalid_payloads() const {
    return invalid_payloads_.load(std::memory_order_relaxed);
  }

 private:
  // Forwards to the sink's logger, adding the failing write's errno name to the outage log's
  // line while one is set (OutageLog itself logs the sink and the reason only).
  class OutageLogger final : public sdk::Logger {
   public:
    explicit OutageLogger(sdk::Logger& inner) : inner_(inner) {}
    bool should_log(sdk::Level level) const noexcept override { return inner_.should_log(level); }
    void log(sdk::Level level, std::string_view message, sdk::Fields fields) noexcept override;
    const char* errno_name = nullptr;  // the writer thread's alone

   private:
    sdk::Logger& inner_;
  };

  void run_writer();
  // Writes `size` bytes from `bytes`, advancing `written`; false with `error` (an errno) on a
  // failure, or EAGAIN when the stop deadline passed first.
  bool write_all(const char* bytes, std::size_t size, std::size_t& written, int& error);
  bool past_stop_deadline() const;
  void report_write_failure(int error, std::uint64_t records);

  const int fd_;
  const bool owns_fd_;
  const std::string name_;
  const QueueOptions options_;
  const bool chunked_;  // a pipe, socket or terminal: poll-guarded writes of PIPE_BUF at most
  sdk::Logger& log_;

  mutable std::mutex mu_;
  std::condition_variable wake_writer_;
  std::condition_variable space_;
  std::condition_variable completed_cv_;
  std::deque<sdk::Record> queue_;
  std::uint64_t accepted_ = 0;   // guarded by mu_
  std::uint64_t completed_ = 0;  // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  bool writer_waiting_ = false;  // the writer sleeps for records; guarded by mu_
  // steady_clock nanoseconds; the maximum until destruction starts.
  std::atomic<std::int64_t> stop_deadline_ns_;

  std::atomic<std::uint64_t> invalid_payloads_{0};
  OutageLogger outage_logger_;
  sdk::OutageLog outage_;  // write failures: reported once per outage, and the recovery

  std::thread writer_;  // last: starts after everything above is initialised
};

}  // namespace crosscut::stdio_sink
