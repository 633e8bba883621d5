#include "connection_replies.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace crosscut::local_inputs {

ReplyWakeup::ReplyWakeup() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!fd_.valid()) throw std::system_error(errno, std::generic_category(), "eventfd");
}

void ReplyWakeup::notify() {
  if (signalled_.exchange(true)) return;  // the loop has not looked yet: it will see this one
  const std::uint64_t one = 1;
  // Cannot fill up: the counter is cleared at every wakeup, long before 2^64 - 1.
  [[maybe_unused]] const ssize_t n = ::write(fd_.get(), &one, sizeof one);
}

void ReplyWakeup::clear() {
  std::uint64_t value = 0;
  [[maybe_unused]] const ssize_t n = ::read(fd_.get(), &value, sizeof value);
  // Before the loop looks for ready replies: a reply marked ready after this notifies again.
  signalled_.store(false);
}

ConnectionReplies::ConnectionReplies(std::shared_ptr<ReplyWakeup> wakeup,
                                     std::thread::id loop_thread)
    : wakeup_(std::move(wakeup)), loop_thread_(loop_thread) {}

std::uint64_t ConnectionReplies::reserve() {
  std::lock_guard lock(mu_);
  return next_place_++;
}

void ConnectionReplies::send(std::uint64_t place, std::string_view reply) {
  {
    std::lock_guard lock(mu_);
    // Closed: counted by close(). A place never reserved, or sent twice, breaks the contract.
    if (closed_ || place >= next_place_ || place < next_out_ || held_.count(place) != 0) return;
    if (place != next_out_) {
      held_bytes_ += reply.size() + 1;
      std::string& line = held_[place];
      line.reserve(reply.size() + 1);
      line.append(reply).push_back('\n');
      return;
    }
    ready_bytes_.append(reply).push_back('\n');
    ++next_out_;
    for (auto it = held_.begin(); it != held_.end() && it->first == next_out_;
         it = held_.erase(it)) {
      held_bytes_ -= it->second.size();
      ready_bytes_ += it->second;
      ++next_out_;
    }
  }
  ready_.store(true, std::memory_order_release);
  if (std::this_thread::get_id() != loop_thread_) wakeup_->notify();
}

bool ConnectionReplies::take(std::string& out) {
  ready_.store(false, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  if (ready_bytes_.empty()) return false;
  if (out.empty())
    out.swap(ready_bytes_);
  else
    out += ready_bytes_;
  ready_bytes_.clear();
  taken_ = next_out_;
  return true;
}

std::uint64_t ConnectionReplies::outstanding() const {
  std::lock_guard lock(mu_);
  return next_place_ - taken_;
}

std::size_t ConnectionReplies::held_bytes() const {
  std::lock_guard lock(mu_);
  return held_bytes_;
}

std::uint64_t ConnectionReplies::close() {
  std::lock_guard lock(mu_);
  if (closed_) return 0;
  closed_ = true;
  const std::uint64_t lost = next_place_ - taken_;
  held_.clear();
  ready_bytes_.clear();
  return lost;
}

}  // namespace crosscut::local_inputs
