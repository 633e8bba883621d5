#include "fd_record_sink.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "ndjson_line.hpp"

namespace crosscut::stdio_sink {

FdRecordSink::FdRecordSink(int fd, bool owns_fd, std::string name, QueueOptions options,
                           sdk::Logger& log)
    : fd_(fd),
      owns_fd_(owns_fd),
      name_(std::move(name)),
      options_(options),
      log_(log),
      outage_(log, name_),
      writer_([this] { run_writer(); }) {}

FdRecordSink::~FdRecordSink() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_writer_.notify_one();
  space_.notify_all();
  writer_.join();
  if (owns_fd_) ::close(fd_);
}

bool FdRecordSink::publish(sdk::Record record) {
  std::unique_lock lock(mu_);
  if (queue_.size() >= options_.capacity && !stopping_) {
    if (options_.on_full == sdk::OverflowPolicy::block)
      space_.wait_for(lock, options_.block_timeout,
                      [&] { return queue_.size() < options_.capacity || stopping_; });
  }
  if (stopping_ || queue_.size() >= options_.capacity) {
    lock.unlock();
    count_dropped();
    return false;
  }
  queue_.push_back(std::move(record));
  ++accepted_;
  count_published();
  lock.unlock();
  wake_writer_.notify_one();
  return true;
}

bool FdRecordSink::flush(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  const std::uint64_t target = accepted_;
  return completed_cv_.wait_until(lock, deadline, [&] { return completed_ >= target; });
}

void FdRecordSink::run_writer() {
  // A closed pipe must fail the write (EPIPE), not kill the process.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);

  std::deque<sdk::Record> batch;
  std::string out;
  std::vector<std::size_t> line_ends;  // offset just past each record's line in `out`
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_writer_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything queued was written
      batch.swap(queue_);
    }
    space_.notify_all();

    out.clear();
    line_ends.clear();
    for (const auto& record : batch) {
      if (!append_ndjson_line(record, out)) {
        if (invalid_payloads_.fetch_add(1, std::memory_order_relaxed) == 0)
          log_.warning("record payload is not valid JSON; written as a JSON string (counted)",
                       {{"sink", name_}, {"topic", record.topic}});
      }
      line_ends.push_back(out.size());
    }

    std::size_t written = 0;
    const bool ok = write_all(out.data(), out.size(), written);
    const int error = errno;
    std::uint64_t done = 0;
    while (done < line_ends.size() && line_ends[done] <= written) ++done;
    const std::uint64_t lost = batch.size() - done;
    count_delivered(done);
    count_failed(lost);
    if (!ok)
      report_write_failure(error, lost);
    else
      outage_.recovered("record sink writes again");

    {
      std::lock_guard lock(mu_);
      completed_ += batch.size();
    }
    completed_cv_.notify_all();
    batch.clear();
  }
}

bool FdRecordSink::write_all(const char* bytes, std::size_t size, std::size_t& written) {
  while (written < size) {
    const ssize_t n = ::write(fd_, bytes + written, size - written);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A non-blocking descriptor (e.g. a stdout shared with a non-blocking reader setup).
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 1000) < 0 && errno != EINTR) return false;
    } else {
      if (n == 0) errno = EIO;
      return false;
    }
  }
  return true;
}

void FdRecordSink::report_write_failure(int error, std::uint64_t records) {
  char buffer[256];
  const char* reason = ::strerror_r(error, buffer, sizeof buffer);  // GNU: returns the text
  outage_.failure(
      "record sink cannot write; records are counted as failed until writing works again", reason,
      records);
}

}  // namespace crosscut::stdio_sink
