// Answers `flush` requests off the input threads. A flush waits on the log sinks, which may be
// slow; an input thread serves many connections, and none of them may wait on another's flush.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crosscut/runtime.hpp"
#include "crosscut/sdk/input.hpp"

namespace crosscut::agent {

// What a `flush` request waits for the log sinks before it is answered ok:false.
inline constexpr std::chrono::milliseconds kFlushReplyTimeout{5000};

// The reply to a flush request: {"id":…,"ok":true}, or ok:false saying the wait timed out.
std::string flush_reply(std::string_view id_json, bool flushed, std::chrono::milliseconds timeout);

// One thread takes every pending request, waits for Runtime::flush() (at most `timeout`) and
// sends each its reply: {"id":…,"ok":true}, or ok:false when the log sinks did not take the
// records in time. A request made while a flush is under way waits for the next one, since it
// may follow records the running one does not cover.
//
// Thread-safety: enqueue() from any thread. stop() answers what is pending (after one last
// flush) and joins; the destructor calls it. The runtime must outlive stop().
class FlushReplier {
 public:
  FlushReplier(Runtime& runtime, std::chrono::milliseconds timeout);
  ~FlushReplier();
  FlushReplier(const FlushReplier&) = delete;
  FlushReplier& operator=(const FlushReplier&) = delete;

  // `id_json`: the request's id, as JSON, echoed in the reply.
  void enqueue(std::shared_ptr<sdk::ReplyChannel> channel, std::uint64_t place,
               std::string id_json);
  void stop();

 private:
  struct Pending {
    std::shared_ptr<sdk::ReplyChannel> channel;
    std::uint64_t place = 0;
    std::string id_json;
  };
  void serve();
  void answer(std::vector<Pending>& batch, bool flushed) const;

  Runtime& runtime_;
  std::chrono::milliseconds timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> pending_;  // guarded by mu_
  bool stopping_ = false;         // guarded by mu_
  std::jthread thread_;           // last: started once the rest is set up
};

}  // namespace crosscut::agent
