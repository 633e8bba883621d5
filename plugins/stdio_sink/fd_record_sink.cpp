#include "fd_record_sink.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "ndjson_line.hpp"

namespace crosscut::stdio_sink {
namespace {

using namespace std::chrono_literals;

// How often a writer waiting for a pipe or socket looks whether the sink is stopping.
constexpr int kPollSliceMs = 100;

// Pipes, sockets and terminals wait for a reader; files and devices such as /dev/null do not.
bool waits_for_reader(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || ::isatty(fd) == 1;
}

std::int64_t steady_ns(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// The symbolic name of the errors write(2) and poll(2) give (strerrorname_np is glibc 2.32+).
std::string errno_name(int error) {
  switch (error) {
    case ENOSPC:
      return "ENOSPC";
    case EDQUOT:
      return "EDQUOT";
    case EIO:
      return "EIO";
    case EAGAIN:
      return "EAGAIN";
    case EPIPE:
      return "EPIPE";
    case EBADF:
      return "EBADF";
    case EINVAL:
      return "EINVAL";
    case EFBIG:
      return "EFBIG";
    case EPERM:
      return "EPERM";
    case EACCES:
      return "EACCES";
    case EROFS:
      return "EROFS";
    case ENXIO:
      return "ENXIO";
    case EFAULT:
      return "EFAULT";
    case ENOMEM:
      return "ENOMEM";
    case ENOBUFS:
      return "ENOBUFS";
    case ECONNRESET:
      return "ECONNRESET";
    case ENOTCONN:
      return "ENOTCONN";
    case EDESTADDRREQ:
      return "EDESTADDRREQ";
    case ESHUTDOWN:
      return "ESHUTDOWN";
    default:
      return "errno " + std::to_string(error);
  }
}

// A full disk or quota, an I/O error or an output that would not drain may be over later;
// a closed pipe, a bad descriptor or a file at its size limit is not.
sdk::DeliveryOutcome outcome_of(int error) {
  switch (error) {
    case ENOSPC:
    case EDQUOT:
    case EIO:
    case EAGAIN:
      return sdk::DeliveryOutcome::retriable;
    default:
      return sdk::DeliveryOutcome::permanent;
  }
}

std::string reason_of(int error) {
  char buffer[256];
  return ::strerror_r(error, buffer, sizeof buffer);  // GNU: returns the text
}

}  // namespace

void FdRecordSink::OutageLogger::log(sdk::Level level, std::string_view message,
                                     sdk::Fields fields) noexcept {
  const sdk::Field* f = fields.begin();
  if (errno_name == nullptr) return inner_.log(level, message, fields);
  switch (fields.size()) {
    case 0:
      return inner_.log(level, message, {{"errno", errno_name}});
    case 1:
      return inner_.log(level, message, {f[0], {"errno", errno_name}});
    case 2:
      return inner_.log(level, message, {f[0], f[1], {"errno", errno_name}});
    case 3:
      return inner_.log(level, message, {f[0], f[1], f[2], {"errno", errno_name}});
    default:
      return inner_.log(level, message, fields);
  }
}

FdRecordSink::FdRecordSink(int fd, bool owns_fd, std::string name, QueueOptions options,
                           sdk::Logger& log)
    : fd_(fd),
      owns_fd_(owns_fd),
      name_(std::move(name)),
      options_(options),
      chunked_(waits_for_reader(fd)),
      log_(log),
      stop_deadline_ns_(std::numeric_limits<std::int64_t>::max()),
      outage_logger_(log),
      outage_(outage_logger_, name_),
      writer_([this] { run_writer(); }) {}

FdRecordSink::~FdRecordSink() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    stop_deadline_ns_.store(steady_ns(std::chrono::steady_clock::now() + options_.stop_timeout));
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
  const bool wake = writer_waiting_;  // a busy writer takes the record with its next batch
  lock.unlock();
  if (wake) wake_writer_.notify_one();
  return true;
}

bool FdRecordSink::flush(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  const std::uint64_t target = accepted_;
  return completed_cv_.wait_until(lock, deadline, [&] { return completed_ >= target; });
}

bool FdRecordSink::past_stop_deadline() const {
  return steady_ns(std::chrono::steady_clock::now()) >= stop_deadline_ns_.load();
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
      writer_waiting_ = true;
      wake_writer_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      writer_waiting_ = false;
      if (queue_.empty()) return;  // stopping, and everything queued was completed
      batch.swap(queue_);
    }
    space_.notify_all();

    out.clear();
    line_ends.clear();
    std::size_t written = 0;
    int error = EAGAIN;
    bool ok = false;
    if (!past_stop_deadline()) {
      for (const auto& record : batch) {
        if (!append_ndjson_line(record, out)) {
          if (invalid_payloads_.fetch_add(1, std::memory_order_relaxed) == 0)
            log_.warning("record payload is not valid JSON; written as a JSON string (counted)",
                         {{"sink", name_}, {"topic", record.topic}});
        }
        line_ends.push_back(out.size());
      }
      ok = write_all(out.data(), out.size(), written, error);
    }

    // Past the stop deadline nothing was rendered: every record fails (line_ends is empty).
    std::size_t done = 0;
    while (done < line_ends.size() && line_ends[done] <= written) deliver(batch[done++].receipt);
    const std::uint64_t lost = batch.size() - done;
    if (lost > 0) {
      const std::string kind = errno_name(error);
      const std::string reason = reason_of(error);
      for (std::size_t i = done; i < batch.size(); ++i)
        fail(batch[i].receipt, outcome_of(error), kind, reason);
    }
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

bool FdRecordSink::write_all(const char* bytes, std::size_t size, std::size_t& written,
                             int& error) {
  while (written < size) {
    std::size_t chunk = size - written;
    if (chunked_) {
      // At most PIPE_BUF once POLLOUT is up: a pipe then takes it without blocking.
      pollfd p{fd_, POLLOUT, 0};
      const int ready = ::poll(&p, 1, kPollSliceMs);
      if (ready < 0 && errno != EINTR) {
        error = errno;
        return false;
      }
      if (ready <= 0) {
        if (past_stop_deadline()) {
          error = EAGAIN;
          return false;
        }
        continue;
      }
      // Ready, or POLLERR/POLLHUP/POLLNVAL: the write reports those as its errno.
      chunk = std::min<std::size_t>(chunk, PIPE_BUF);
    }
    const ssize_t n = ::write(fd_, bytes + written, chunk);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A non-blocking descriptor (made so by whoever shares it): wait until it takes more.
      if (past_stop_deadline()) {
        error = EAGAIN;
        return false;
      }
      if (!chunked_) {
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, kPollSliceMs);
      }
    } else {
      error = n == 0 ? EIO : errno;
      return false;
    }
  }
  return true;
}

void FdRecordSink::report_write_failure(int error, std::uint64_t records) {
  const std::string name = errno_name(error);
  outage_logger_.errno_name = name.c_str();
  outage_.failure("record sink cannot write; records fail until writing works again",
                  reason_of(error), records);
  outage_logger_.errno_name = nullptr;
}

}  // namespace crosscut::stdio_sink
