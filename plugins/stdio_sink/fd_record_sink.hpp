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
// can. A failed write counts the batch's unwritten records in `failed` and is logged once per
// outage (and once more when writing works again); the sink never throws or crashes on I/O
// errors, and SIGPIPE is blocked on the writer thread (a closed pipe is an EPIPE failure).
//
// Destruction stops accepting records, writes everything already queued, then joins the
// writer. Call flush() with a deadline first when shutdown must be bounded.
//
// The `stdout` and `file` components derive from it (stdio_sinks.hpp) to be built from options.
class FdRecordSink : public sdk::CountingRecordSink {
 public:
  // `name` names the sink in log messages ("stdout", "file /var/log/x.ndjson").
  // When `owns_fd`, the descriptor is closed on destruction.
  FdRecordSink(int fd, bool owns_fd, std::string name, QueueOptions options, sdk::Logger& log);
  ~FdRecordSink() override;

  bool publish(sdk::Record record) override;
  // Waits until every record accepted before the call has been written or has failed.
  bool flush(std::chrono::steady_clock::time_point deadline) override;

  // Records whose payload was not one valid JSON document (written as a JSON string).
  std::uint64_t invalid_payloads() const {
    return invalid_payloads_.load(std::memory_order_relaxed);
  }

 private:
  void run_writer();
  // Writes `bytes` completely; false (errno set) on a failure.
  bool write_all(const char* bytes, std::size_t size, std::size_t& written);
  void report_write_failure(int error, std::uint64_t records);

  const int fd_;
  const bool owns_fd_;
  const std::string name_;
  const QueueOptions options_;
  sdk::Logger& log_;

  mutable std::mutex mu_;
  std::condition_variable wake_writer_;
  std::condition_variable space_;
  std::condition_variable completed_cv_;
  std::deque<sdk::Record> queue_;
  std::uint64_t accepted_ = 0;   // guarded by mu_
  std::uint64_t completed_ = 0;  // written or failed, guarded by mu_
  bool stopping_ = false;        // guarded by mu_

  std::atomic<std::uint64_t> invalid_payloads_{0};
  sdk::OutageLog outage_;  // write failures: reported once per outage, and the recovery

  std::thread writer_;  // last: starts after everything above is initialised
};

}  // namespace crosscut::stdio_sink
