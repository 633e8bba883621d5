#include "line_splitter.hpp"

#include <cstring>
#include <utility>

namespace crosscut::local_inputs {
namespace {

// After a long line, do not keep its buffer per stream for ever.
constexpr std::size_t kKeptCapacity = 64 * 1024;

}  // namespace

LineSplitter::LineSplitter(sdk::InputSink& sink, std::string name, std::size_t max_line)
    : sink_(sink), name_(std::move(name)), max_line_(max_line) {}

void LineSplitter::feed(std::string_view data) {
  const char* p = data.data();
  const char* const end = p + data.size();
  while (p < end) {
    const auto* nl =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (nl == nullptr) {
      keep_partial(p, end);
      return;
    }
    ++line_;
    if (discarding_) {
      discarding_ = false;
    } else if (pending_.empty()) {
      deliver(std::string_view(p, static_cast<std::size_t>(nl - p)));
    } else {
      // +1: a line of exactly max_line bytes may still carry a \r to strip.
      if (pending_.size() + static_cast<std::size_t>(nl - p) > max_line_ + 1) {
        report_overlong(line_);
      } else {
        pending_.append(p, nl);
        deliver(pending_);
      }
      pending_.clear();
      if (pending_.capacity() > kKeptCapacity) pending_ = std::string();
    }
    p = nl + 1;
  }
}

void LineSplitter::keep_partial(const char* begin, const char* end) {
  if (discarding_) return;
  const auto n = static_cast<std::size_t>(end - begin);
  if (pending_.size() + n > max_line_ + 1) {
    // Reported now, while it is being skipped: the rest is never buffered.
    report_overlong(line_ + 1);
    pending_.clear();
    if (pending_.capacity() > kKeptCapacity) pending_ = std::string();
    discarding_ = true;
    return;
  }
  pending_.append(begin, n);
}

void LineSplitter::finish() {
  if (discarding_) {
    discarding_ = false;
    ++line_;
  } else if (!pending_.empty()) {
    ++line_;
    deliver(pending_);
  }
  pending_.clear();
  if (pending_.capacity() > kKeptCapacity) pending_ = std::string();
}

void LineSplitter::restart() {
  pending_.clear();
  discarding_ = false;
  line_ = 0;
}

void LineSplitter::skip_to_next_line() {
  pending_.clear();
  discarding_ = true;
}

void LineSplitter::deliver(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return;
  if (line.size() > max_line_) {
    report_overlong(line_);
    return;
  }
  sink_.on_line(line, sdk::InputPosition{name_, line_});
}

void LineSplitter::report_overlong(std::uint64_t line) {
  sink_.on_bad_input(
      sdk::InputPosition{name_, line},
      "line longer than max_line (" + std::to_string(max_line_) + " bytes), skipped");
}

}  // namespace crosscut::local_inputs
