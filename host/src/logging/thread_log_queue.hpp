// The queue a thread logs into: one per (thread, engine), created on the thread's first log
// call and released once the thread has exited and the logging thread has drained it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "logging/spsc_byte_ring.hpp"

namespace crosscut::logging {

// The calling thread produces, the engine's logging thread consumes (see SpscByteRing).
// Owned jointly by the thread (until it exits) and the engine (until it has drained it).
struct ThreadLogQueue {
  explicit ThreadLogQueue(std::size_t capacity) : ring(capacity) {}
  ~ThreadLogQueue();  // frees what records too large for the ring left behind
  ThreadLogQueue(const ThreadLogQueue&) = delete;
  ThreadLogQueue& operator=(const ThreadLogQueue&) = delete;

  SpscByteRing ring;
  // Written by the producer only (its cache line).
  alignas(64) std::atomic<bool> in_call{false};  // inside a log call: shutdown waits for it
  std::atomic<std::uint64_t> dropped{0};         // refused for lack of space (drop_newest)
  // Flags set once.
  alignas(64) std::atomic<bool> thread_exited{false};
  std::atomic<bool> engine_gone{false};
};

// The calling thread's queue for the last engine it logged to: the log call's fast path.
struct ThreadQueueCache {
  std::uint64_t engine_id = 0;
  ThreadLogQueue* queue = nullptr;
};
// Initial-exec: a plain offset from the thread pointer, no call into the dynamic linker.
extern thread_local constinit ThreadQueueCache t_queue_cache
    __attribute__((tls_model("initial-exec")));

// The calling thread's queue for the engine with id `engine_id`, made by `make(context)` on
// first use. Null while the thread is exiting (its thread-local state is being destroyed):
// the caller then writes synchronously. The thread keeps its queues until it exits; those of
// engines that are gone are dropped on the thread's next first call to another engine.
using QueueMaker = std::shared_ptr<ThreadLogQueue> (*)(void* context);
ThreadLogQueue* attach_thread_queue(std::uint64_t engine_id, QueueMaker make, void* context);

// A fresh id for an engine: never reused, so a thread's cached queue can never be taken for
// that of a later engine at the same address.
std::uint64_t next_engine_id() noexcept;

}  // namespace crosscut::logging
