#include "logging/thread_log_queue.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "logging/record_codec.hpp"

namespace crosscut::logging {

thread_local constinit ThreadQueueCache t_queue_cache __attribute__((tls_model("initial-exec")));

namespace {

// A thread's queues, one per engine it logged to.
struct ThreadQueues {
  std::vector<std::pair<std::uint64_t, std::shared_ptr<ThreadLogQueue>>> queues;
  ~ThreadQueues();
};

// 0: not made yet, 1: alive, 2: destroyed (the thread is exiting). Trivially destructible,
// so it can be read while other thread-locals are being torn down.
thread_local int t_state = 0;

ThreadQueues& thread_queues() {
  thread_local ThreadQueues queues;
  t_state = 1;
  return queues;
}

ThreadQueues::~ThreadQueues() {
  t_state = 2;
  t_queue_cache = {};
  for (auto& [id, q] : queues) q->thread_exited.store(true, std::memory_order_release);
}

}  // namespace

ThreadLogQueue::~ThreadLogQueue() {
  // Only heap records own memory; everything else is bytes in the ring.
  for (auto r = ring.front(); !r.empty(); ring.pop(), r = ring.front()) {
    QueuedHeader h;
    std::memcpy(&h, r.data(), sizeof h);
    if (h.kind == QueuedKind::heap && r.size() >= sizeof h + sizeof(HeapPayload)) {
      HeapPayload heap;
      std::memcpy(&heap, r.data() + sizeof h, sizeof heap);
      delete heap.body;
    }
  }
}

ThreadLogQueue* attach_thread_queue(std::uint64_t engine_id, QueueMaker make, void* context) {
  if (t_state == 2) return nullptr;
  auto& mine = thread_queues().queues;
  for (auto& [id, q] : mine) {
    if (id == engine_id) {
      t_queue_cache = {engine_id, q.get()};
      return q.get();
    }
  }
  std::erase_if(
      mine, [](const auto& e) { return e.second->engine_gone.load(std::memory_order_acquire); });
  auto q = make(context);
  if (!q) return nullptr;
  mine.emplace_back(engine_id, q);
  t_queue_cache = {engine_id, q.get()};
  return q.get();
}

std::uint64_t next_engine_id() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1);
}

}  // namespace crosscut::logging
