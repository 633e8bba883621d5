// A bounded lock-free multi-producer multi-consumer ring (Vyukov's sequence-numbered slots).
// Each element gets a ticket: its position in the ring's total order. Pops take the oldest
// element first, so whoever pops (the worker, or a producer discarding under drop_oldest)
// takes tickets in increasing order.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace crosscut::bus_detail {

inline std::size_t round_up_pow2(std::size_t n) {
  std::size_t c = 2;
  while (c < n) c <<= 1;
  return c;
}

template <class T>
class BoundedRing {
 public:
  explicit BoundedRing(std::size_t capacity)
      : mask_(round_up_pow2(capacity) - 1), slots_(new Slot[mask_ + 1]) {
    for (std::size_t i = 0; i <= mask_; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
  }
  BoundedRing(const BoundedRing&) = delete;
  BoundedRing& operator=(const BoundedRing&) = delete;

  std::size_t capacity() const { return mask_ + 1; }

  // Moves from `value` only on success; false when the ring is full.
  bool try_push(T& value) {
    std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    Slot* slot;
    for (;;) {
      slot = &slots_[pos & mask_];
      std::uint64_t seq = slot->seq.load(std::memory_order_acquire);
      auto dif = static_cast<std::int64_t>(seq - pos);
      if (dif == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (dif < 0) {
        return false;
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    slot->value = std::move(value);
    slot->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  // On success stores the element's ticket; on failure stores the position of the next
  // element to pop (every ticket below it has been popped).
  bool try_pop(T& out, std::uint64_t& ticket) {
    std::uint64_t pos = head_.load(std::memory_order_relaxed);
    Slot* slot;
    for (;;) {
      slot = &slots_[pos & mask_];
      std::uint64_t seq = slot->seq.load(std::memory_order_acquire);
      auto dif = static_cast<std::int64_t>(seq - (pos + 1));
      if (dif == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (dif < 0) {
        ticket = pos;
        return false;
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
    out = std::move(slot->value);  // leaves the slot's members empty (T holds shared_ptrs)
    slot->seq.store(pos + mask_ + 1, std::memory_order_release);
    ticket = pos;
    return true;
  }

  // Tickets handed out so far (every element pushed before now has a smaller ticket).
  std::uint64_t pushed() const { return tail_.load(std::memory_order_acquire); }

 private:
  struct alignas(64) Slot {
    std::atomic<std::uint64_t> seq{0};
    T value{};
  };

  const std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  alignas(64) std::atomic<std::uint64_t> head_{0};
};

}  // namespace crosscut::bus_detail
