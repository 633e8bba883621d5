// The storage behind a MinuteBatchCounter.
//
// Every thread that increments gets a ThreadCell of its own. A cell holds one MinuteSlot per
// minute it has counted and not yet handed over; a slot holds cumulative counts (one per
// symbol id, plus one for increments without a symbol) that only the owning thread writes,
// with a plain load and store: no read-modify-write, no lock, nothing shared with another
// thread's writes. The flusher reads the counts and remembers what it has already taken, so
// a count is never reset under the writer's feet: whatever the flusher has not yet seen goes
// out in a later batch, and conservation holds without stopping the writers.
//
// A thread reaches its slots through `active` (a few slots, indexed by minute), which only
// the owner changes, under the cell's mutex; the flusher frees a slot only when it is no
// longer active and its minute is due, also under that mutex, so the owner never touches a
// freed slot. The mutex is private to one thread and the flusher: the owner takes it once per
// minute it starts counting, not per increment.
//
// The counter owns the cells. When a thread exits, its cells are marked orphaned: their
// slots are final, and the flusher drops a cell once everything in it went out, so threads
// that come and go leave no memory behind.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crosscut/sdk/events.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "metrics/minute_batch.hpp"
#include "metrics/symbol_cache.hpp"
#include "metrics/symbol_key.hpp"

namespace crosscut::metrics {

inline constexpr std::uint32_t kNoSymbol = 0xFFFFFFFFu;
inline constexpr std::size_t kChunkBits = 7;
inline constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
inline constexpr std::size_t kChunks = 128;
inline constexpr std::size_t kMaxSymbols = kChunkSize * kChunks;  // 16384 per counter
inline constexpr std::size_t kActiveWays = 4;

// Only the owning thread writes a count, so an increment needs no atomic read-modify-write;
// the atomics are there so that the flusher may read while it writes.
inline void bump(std::atomic<std::uint64_t>& count) noexcept {
  count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// The start of the minute holding an epoch time, in epoch seconds: std::chrono::floor, so
// times before 1970 go to the minute they are in too.
template <class Rep, class Period>
constexpr std::int64_t minute_start(std::chrono::duration<Rep, Period> since_epoch) noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::floor<std::chrono::minutes>(since_epoch))
      .count();
}
inline std::int64_t minute_of_seconds(std::int64_t seconds) noexcept {
  return minute_start(std::chrono::seconds(seconds));
}
inline std::int64_t minute_of(std::chrono::system_clock::time_point t) noexcept {
  return minute_start(t.time_since_epoch());
}
inline std::int64_t minute_of_ms(std::int64_t ms) noexcept {
  return minute_start(std::chrono::milliseconds(ms));
}

struct SymbolChunk {
  std::array<std::atomic<std::uint64_t>, kChunkSize> counts{};
};

struct MinuteSlot {
  explicit MinuteSlot(std::int64_t m) : minute(m) { chunks[0].store(&first); }
  ~MinuteSlot() {
    for (std::size_t c = 1; c < kChunks; ++c) delete chunks[c].load(std::memory_order_relaxed);
  }
  MinuteSlot(const MinuteSlot&) = delete;
  MinuteSlot& operator=(const MinuteSlot&) = delete;

  const std::int64_t minute;
  std::atomic<std::uint64_t> without_symbol{0};
  SymbolChunk first;  // the first kChunkSize symbols: no pointer to follow for most counters
  std::array<std::atomic<SymbolChunk*>, kChunks> chunks{};  // [0] is `first`; the rest are
                                                            // allocated by the owner on use

  // The flusher's side, under the cell mutex: the counts already handed over.
  std::uint64_t taken_without_symbol = 0;
  std::vector<std::uint64_t> taken;  // by symbol id
};

struct alignas(64) ThreadCell {
  std::mutex mu;
  std::array<MinuteSlot*, kActiveWays> active{};  // owner writes under mu
  // The owner's shortcut for counting by the clock: one of `active` (or null), and the
  // start of its minute in epoch nanoseconds.
  MinuteSlot* now_slot = nullptr;
  std::int64_t now_start_ns = 0;
  std::vector<std::unique_ptr<MinuteSlot>> slots;  // under mu
  SymbolCache symbols;                             // owner only
  bool orphaned = false;  // under mu: the owner thread has exited (its slots are final)
  bool retired = false;   // the flusher's: orphaned and emptied, to be dropped
};

// Which minutes collect() takes.
struct CollectWindow {
  std::int64_t now_ns = 0;      // the clock's now, epoch nanoseconds
  std::int64_t grace_ns = 0;    // a minute is due once it ended more than this ago
  std::int64_t horizon_ns = 0;  // minutes starting further than this after now are due at once
  bool everything = false;      // shutdown: every minute, the current one included
};

// Whether `minute` (epoch seconds) is due under `window`.
bool is_due(std::int64_t minute, const CollectWindow& window);

// Things worth a log line, collected off the hot path.
struct CounterNotes {
  std::uint64_t truncated = 0;  // increments whose symbol was cut to kMaxSymbolBytes
  bool invalid_utf8 = false;
  bool symbol_limit = false;
};

class CounterState {
 public:
  CounterState(sdk::Target target, const sdk::Clock& clock);
  ~CounterState();
  CounterState(const CounterState&) = delete;
  CounterState& operator=(const CounterState&) = delete;

  const sdk::Target& target() const noexcept { return target_; }

  // Hot path: one message in `minute` (epoch seconds, a multiple of 60). Any thread.
  void count(std::string_view symbol, std::int64_t minute) {
    ThreadCell* cell = local_cell();
    if (cell == nullptr) [[unlikely]]
      return count_while_exiting(symbol, minute, false);
    count_in(*cell, symbol, minute);
  }

  // Hot path: one message now, by the clock.
  void count_now(std::string_view symbol) {
    std::int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now().time_since_epoch())
            .count();
    ThreadCell* cell = local_cell();
    if (cell == nullptr) [[unlikely]]
      return count_while_exiting(symbol, ns, true);
    count_now_in(*cell, symbol, ns);
  }

  // Flusher: the counts not yet taken of every due minute; frees the slots that are done.
  // One flusher at a time (the service serialises); concurrent with count().
  MinuteBatch collect(const CollectWindow& window);

  // The notes raised since the last call. One caller at a time (the flusher).
  CounterNotes take_notes();

  // Minute slots currently held over all threads (memory accounting, tests).
  std::size_t held_slots();
  // Thread cells currently held (a cell goes once its thread exited and its counts went out).
  std::size_t held_cells();

 private:
  static constexpr std::uint64_t kMinuteNs = 60'000'000'000ull;

  void count_in(ThreadCell& cell, std::string_view symbol, std::int64_t minute) {
    std::uint32_t id = symbol.empty() ? kNoSymbol : symbol_id(cell, symbol);
    MinuteSlot* slot = cell.active[way(minute)];
    if (slot == nullptr || slot->minute != minute) [[unlikely]]
      slot = activate(cell, minute);
    add(*slot, id);
  }

  // The thread remembers the slot of the minute it counted last by the clock and where that
  // minute starts, so the common case needs no division.
  void count_now_in(ThreadCell& cell, std::string_view symbol, std::int64_t ns) {
    std::uint32_t id = symbol.empty() ? kNoSymbol : symbol_id(cell, symbol);
    MinuteSlot* slot = cell.now_slot;
    if (slot == nullptr ||
        static_cast<std::uint64_t>(ns) - static_cast<std::uint64_t>(cell.now_start_ns) >= kMinuteNs)
        [[unlikely]]
      slot = now_slot(cell, ns);
    add(*slot, id);
  }

  // Counting from a thread whose cells are already gone (from a thread_local destructor that
  // runs after ours): into one shared cell, under a lock.
  void count_while_exiting(std::string_view symbol, std::int64_t when, bool when_is_ns);

  static void add(MinuteSlot& slot, std::uint32_t id) {
    if (id == kNoSymbol) {
      bump(slot.without_symbol);
      return;
    }
    if (id < kChunkSize) [[likely]] {
      bump(slot.first.counts[id]);
      return;
    }
    SymbolChunk* chunk = slot.chunks[id >> kChunkBits].load(std::memory_order_relaxed);
    if (chunk == nullptr) [[unlikely]]
      chunk = add_chunk(slot, id >> kChunkBits);
    bump(chunk->counts[id & (kChunkSize - 1)]);
  }

  static std::size_t way(std::int64_t minute) noexcept {
    return static_cast<std::size_t>(static_cast<std::uint64_t>(minute / 60) % kActiveWays);
  }

  // The calling thread's cell, or nullptr once the thread's cells were released at exit.
  ThreadCell* local_cell();
  ThreadCell* local_cell_slow();
  __attribute__((always_inline)) std::uint32_t symbol_id(ThreadCell& cell,
                                                         std::string_view symbol) {
    if (symbol.size() > kMaxSymbolBytes) [[unlikely]] {
      symbol = symbol.substr(0, kMaxSymbolBytes);
      truncated_.fetch_add(1, std::memory_order_relaxed);
    }
    SymbolProbe probe(symbol);
    std::uint32_t id;
    if (cell.symbols.find(probe, id)) [[likely]]
      return id;
    return intern(cell, probe);
  }
  std::uint32_t intern(ThreadCell& cell, const SymbolProbe& probe);
  MinuteSlot* activate(ThreadCell& cell, std::int64_t minute);
  MinuteSlot* now_slot(ThreadCell& cell, std::int64_t ns);
  static SymbolChunk* add_chunk(MinuteSlot& slot, std::size_t index);

  const sdk::Target target_;
  const sdk::Clock& clock_;
  const std::uint64_t id_;  // process-unique, keys the per-thread cell lookup

  std::mutex cells_mu_;
  std::vector<std::shared_ptr<ThreadCell>> cells_;  // threads hold weak references

  std::mutex exiting_mu_;  // owns exiting_cell_ in place of a thread
  std::shared_ptr<ThreadCell> exiting_cell_;

  std::mutex symbols_mu_;
  std::unordered_map<std::string, std::uint32_t> symbol_ids_;  // detail key -> id
  std::vector<std::string> symbol_keys_;                       // id -> detail key

  std::atomic<std::uint64_t> truncated_{0};  // hostile input only: shared, but rare
  std::atomic<bool> note_invalid_utf8_{false};
  std::atomic<bool> note_symbol_limit_{false};
};

}  // namespace crosscut::metrics
