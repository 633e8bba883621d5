// The replies owed to one Unix socket connection: the sdk::ReplyChannel the host answers
// through, and the wakeup that tells the input's event loop a reply came from another thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "crosscut/sdk/input.hpp"
#include "unique_fd.hpp"

namespace crosscut::local_inputs {

// An eventfd the event loop watches. Shared by the loop and every connection's replies, so a
// reply sent after the loop ended finds it still there. Thread-safe.
class ReplyWakeup {
 public:
  ReplyWakeup();  // throws std::system_error when no eventfd can be made
  int fd() const { return fd_.get(); }
  // At most one write per wait of the loop: a burst of replies costs one wakeup.
  void notify();
  // The loop, woken: clears the eventfd before it looks for replies.
  void clear();

 private:
  UniqueFd fd_;
  std::atomic<bool> signalled_{false};
};

// Replies in the order of their places: a reply whose earlier places are still open is held
// until they are sent. The event loop takes the bytes that are ready and writes them.
//
// Thread-safety: every member may be called from any thread. send() from a thread other than
// the loop's wakes the loop; on the loop's own thread it only marks the replies ready, and the
// loop writes them once it has handled the chunk it is reading.
class ConnectionReplies final : public sdk::ReplyChannel {
 public:
  ConnectionReplies(std::shared_ptr<ReplyWakeup> wakeup, std::thread::id loop_thread);

  std::uint64_t reserve() override;
  void send(std::uint64_t place, std::string_view reply) override;

  // Moves the reply lines ready to go (each ended by '\n') to the end of `out`; false when
  // there were none since the last take.
  bool take(std::string& out);
  // Whether a reply was sent since the last take(): set from other threads, for the loop's scan.
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  // Places reserved whose reply has not yet been taken, and the bytes of those held.
  std::uint64_t outstanding() const;
  std::size_t held_bytes() const;
  // The connection is gone: later replies are discarded. Returns the replies that will now
  // never be written (open places, held and untaken replies).
  std::uint64_t close();

 private:
  std::shared_ptr<ReplyWakeup> wakeup_;
  std::thread::id loop_thread_;
  mutable std::mutex mu_;
  std::uint64_t next_place_ = 0;               // the next reserve()
  std::uint64_t next_out_ = 0;                 // the next place to go to ready_bytes_
  std::uint64_t taken_ = 0;                    // places whose reply take() moved out
  std::map<std::uint64_t, std::string> held_;  // sent before an earlier place
  std::size_t held_bytes_ = 0;
  std::string ready_bytes_;
  bool closed_ = false;
  std::atomic<bool> ready_{false};
};

}  // namespace crosscut::local_inputs
