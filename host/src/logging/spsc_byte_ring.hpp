// A bounded single-producer single-consumer ring of variable-size byte records: the queue a
// logging thread owns. The producer reserves a contiguous span, writes the record in place
// and commits it; the consumer reads the oldest record in place and pops it. Each side keeps
// a cached copy of the other's position, so the common path touches no shared cache line.
// Boost.Lockfree's spsc_queue moves elements, not reserved spans: a variable-size record
// would have to be encoded twice, and it rereads the other side's index on every call.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace crosscut::logging {

// Thread-safety: one producer thread and one consumer thread at a time. Records are 8-byte
// aligned; a record never wraps (the tail of the buffer is padded instead).
class SpscByteRing {
 public:
  static constexpr std::size_t kAlign = 8;
  static constexpr std::size_t kFrame = 8;  // per-record length word (+ padding)

  // `capacity` is rounded up to a power of two, at least 4 KiB.
  explicit SpscByteRing(std::size_t capacity)
      : mask_(round_up(capacity) - 1), buffer_(new std::byte[mask_ + 1]) {}
  SpscByteRing(const SpscByteRing&) = delete;
  SpscByteRing& operator=(const SpscByteRing&) = delete;

  std::size_t capacity() const noexcept { return mask_ + 1; }
  // The largest record reserve() accepts.
  std::size_t max_record() const noexcept { return capacity() / 2 - kFrame; }

  // Producer: space for `n` bytes (n <= max_record()), or null when the ring is full. The
  // span is published by commit(); a second reserve() before commit() replaces the first.
  std::byte* reserve(std::size_t n) noexcept {
    const std::size_t need = kFrame + align(n);
    std::uint64_t at = write_;
    std::size_t pad = 0;
    const std::size_t room = capacity() - (at & mask_);
    if (room < need) pad = room;
    if (at + pad + need - read_cache_ > capacity()) {
      read_cache_ = read_.load(std::memory_order_acquire);
      if (at + pad + need - read_cache_ > capacity()) return nullptr;
    }
    if (pad) {
      put_length(at, kPadding);
      at += pad;
    }
    put_length(at, static_cast<std::uint32_t>(n));
    reserved_end_ = at + need;
    return buffer_.get() + ((at + kFrame) & mask_);
  }
  void commit() noexcept {
    write_ = reserved_end_;
    write_pos_.store(write_, std::memory_order_release);
  }

  // Consumer: the oldest record, or an empty span when there is none.
  std::span<const std::byte> front() noexcept {
    for (;;) {
      if (read_own_ == write_cache_) {
        write_cache_ = write_pos_.load(std::memory_order_acquire);
        if (read_own_ == write_cache_) return {};
      }
      std::uint32_t n = 0;
      std::memcpy(&n, buffer_.get() + (read_own_ & mask_), sizeof n);
      if (n == kPadding) {
        read_own_ += capacity() - (read_own_ & mask_);
        continue;
      }
      return {buffer_.get() + ((read_own_ + kFrame) & mask_), n};
    }
  }
  // Releases the record front() returned.
  void pop() noexcept {
    std::uint32_t n = 0;
    std::memcpy(&n, buffer_.get() + (read_own_ & mask_), sizeof n);
    read_own_ += kFrame + align(n);
    read_.store(read_own_, std::memory_order_release);
  }

  // Positions in bytes since the ring was made; everything below write_position() has been
  // committed, everything below read_position() popped.
  std::uint64_t write_position() const noexcept {
    return write_pos_.load(std::memory_order_acquire);
  }
  std::uint64_t read_position() const noexcept { return read_.load(std::memory_order_acquire); }

 private:
  static constexpr std::uint32_t kPadding = 0xFFFFFFFFu;
  static std::size_t align(std::size_t n) noexcept { return (n + kAlign - 1) & ~(kAlign - 1); }
  static std::size_t round_up(std::size_t n) noexcept {
    std::size_t c = 4096;
    while (c < n) c <<= 1;
    return c;
  }
  void put_length(std::uint64_t at, std::uint32_t n) noexcept {
    std::memcpy(buffer_.get() + (at & mask_), &n, sizeof n);
  }

  const std::size_t mask_;
  const std::unique_ptr<std::byte[]> buffer_;
  // Producer's line.
  alignas(64) std::uint64_t write_ = 0;
  std::uint64_t read_cache_ = 0;
  std::uint64_t reserved_end_ = 0;
  // Consumer's line.
  alignas(64) std::uint64_t read_own_ = 0;
  std::uint64_t write_cache_ = 0;
  // Shared positions, one line each.
  alignas(64) std::atomic<std::uint64_t> write_pos_{0};
  alignas(64) std::atomic<std::uint64_t> read_{0};
};

}  // namespace crosscut::logging
