#include "agent/flush_replier.hpp"

namespace crosscut::agent {

FlushReplier::FlushReplier(Runtime& runtime, std::chrono::milliseconds timeout)
    : runtime_(runtime), timeout_(timeout), thread_([this] { serve(); }) {}

FlushReplier::~FlushReplier() {
  stop();
}

void FlushReplier::enqueue(std::shared_ptr<sdk::ReplyChannel> channel, std::uint64_t place,
                           std::string id_json) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      pending_.push_back({std::move(channel), place, std::move(id_json)});
      cv_.notify_one();
      return;
    }
  }
  // Stopped: nothing is left to wait on the thread, so the caller waits itself.
  std::vector<Pending> one;
  one.push_back({std::move(channel), place, std::move(id_json)});
  answer(one, runtime_.flush(timeout_));
}

void FlushReplier::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void FlushReplier::serve() {
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, with nothing owed
      batch.swap(pending_);
    }
    answer(batch, runtime_.flush(timeout_));
    batch.clear();
  }
}

void FlushReplier::answer(std::vector<Pending>& batch, bool flushed) const {
  for (Pending& p : batch) p.channel->send(p.place, flush_reply(p.id_json, flushed, timeout_));
}

std::string flush_reply(std::string_view id_json, bool flushed, std::chrono::milliseconds timeout) {
  std::string out = "{\"id\":";
  out += id_json;
  if (flushed) return out + ",\"ok\":true}";
  return out + ",\"ok\":false,\"error\":\"flush timed out after " +
         std::to_string(timeout.count()) + " ms: the log sinks did not take the records\"}";
}

}  // namespace crosscut::agent
