#include "metrics/counter_state.hpp"

#include <algorithm>
#include <map>

namespace crosscut::metrics {

namespace {

std::atomic<std::uint64_t> next_counter_id{1};

// The calling thread's cells, by counter id. A small direct-mapped table of plain data in
// the initial-exec TLS model, so the common lookup is two loads from %fs and a compare,
// without __tls_get_addr. Ids are never reused, so a stale entry (its counter destroyed)
// can never match.
struct CellRef {
  std::uint64_t counter = 0;
  ThreadCell* cell = nullptr;
};
constexpr std::size_t kCellRefs = 8;
__attribute__((tls_model("initial-exec"))) thread_local CellRef cell_refs[kCellRefs];

// Set when the thread's cells were released (trivial, so readable at any point of exit).
__attribute__((tls_model("initial-exec"))) thread_local bool thread_cells_released = false;

// Every cell of the thread, for counters that miss the small table. The counter owns the
// cells; at thread exit each live one is marked orphaned, so that the flusher drops it once
// its counts went out (threads that come and go do not leave memory behind).
struct ThreadCells {
  struct Entry {
    ThreadCell* cell;
    std::weak_ptr<ThreadCell> owner;
  };
  std::unordered_map<std::uint64_t, Entry> by_counter;

  ~ThreadCells() {
    thread_cells_released = true;
    for (auto& ref : cell_refs) ref = CellRef{};
    for (auto& [id, entry] : by_counter)
      if (auto cell = entry.owner.lock()) {
        std::lock_guard lock(cell->mu);
        cell->orphaned = true;
      }
  }
};
thread_local ThreadCells thread_cells;

}  // namespace

// 128-bit arithmetic: event times may be anything.
bool is_due(std::int64_t minute, const CollectWindow& w) {
  if (w.everything) return true;
  __int128 start = static_cast<__int128>(minute) * 1'000'000'000;
  __int128 end = start + static_cast<__int128>(kBucketSizeSec) * 1'000'000'000;
  if (end + w.grace_ns < w.now_ns) return true;
  return start > static_cast<__int128>(w.now_ns) + w.horizon_ns;
}

CounterState::CounterState(sdk::Target target, const sdk::Clock& clock)
    : target_(std::move(target)), clock_(clock), id_(next_counter_id.fetch_add(1)) {}

CounterState::~CounterState() = default;

ThreadCell* CounterState::local_cell() {
  CellRef& ref = cell_refs[id_ % kCellRefs];
  if (ref.counter == id_) [[likely]]
    return ref.cell;
  return local_cell_slow();
}

ThreadCell* CounterState::local_cell_slow() {
  if (thread_cells_released) return nullptr;
  ThreadCell* cell;
  auto it = thread_cells.by_counter.find(id_);
  if (it != thread_cells.by_counter.end()) {
    cell = it->second.cell;
  } else {
    auto owned = std::make_shared<ThreadCell>();
    cell = owned.get();
    thread_cells.by_counter.emplace(id_, ThreadCells::Entry{cell, owned});
    std::lock_guard lock(cells_mu_);
    cells_.push_back(std::move(owned));
  }
  cell_refs[id_ % kCellRefs] = CellRef{id_, cell};
  return cell;
}

void CounterState::count_while_exiting(std::string_view symbol, std::int64_t when,
                                       bool when_is_ns) {
  std::lock_guard lock(exiting_mu_);
  if (!exiting_cell_) {
    exiting_cell_ = std::make_shared<ThreadCell>();
    std::lock_guard cells_lock(cells_mu_);
    cells_.push_back(exiting_cell_);
  }
  if (when_is_ns)
    count_now_in(*exiting_cell_, symbol, when);
  else
    count_in(*exiting_cell_, symbol, when);
}

std::uint32_t CounterState::intern(ThreadCell& cell, const SymbolProbe& probe) {
  SymbolRepairs repairs;
  std::string key = key_for_symbol(probe.text, &repairs);
  std::uint32_t id = kNoSymbol;
  {
    std::lock_guard lock(symbols_mu_);
    auto it = symbol_ids_.find(key);
    if (it != symbol_ids_.end()) {
      id = it->second;
    } else if (symbol_keys_.size() < kMaxSymbols) {
      id = static_cast<std::uint32_t>(symbol_keys_.size());
      symbol_keys_.push_back(key);
      symbol_ids_.emplace(std::move(key), id);
    }
  }
  if (id == kNoSymbol) note_symbol_limit_.store(true, std::memory_order_relaxed);
  if (repairs.invalid_utf8) note_invalid_utf8_.store(true, std::memory_order_relaxed);
  cell.symbols.insert(probe, id);
  return id;
}

MinuteSlot* CounterState::activate(ThreadCell& cell, std::int64_t minute) {
  std::lock_guard lock(cell.mu);
  MinuteSlot* slot = nullptr;
  for (auto& s : cell.slots)
    if (s->minute == minute) {
      slot = s.get();
      break;
    }
  if (slot == nullptr) {
    cell.slots.push_back(std::make_unique<MinuteSlot>(minute));
    slot = cell.slots.back().get();
  }
  MinuteSlot*& entry = cell.active[way(minute)];
  if (entry == cell.now_slot && entry != slot) cell.now_slot = nullptr;  // evicted
  entry = slot;
  return slot;
}

MinuteSlot* CounterState::now_slot(ThreadCell& cell, std::int64_t ns) {
  std::int64_t s = ns / 1'000'000'000;
  if (ns % 1'000'000'000 < 0) --s;
  std::int64_t minute = minute_of_seconds(s);
  MinuteSlot* slot = cell.active[way(minute)];
  if (slot == nullptr || slot->minute != minute) slot = activate(cell, minute);
  std::int64_t start_ns;
  // At the ends of the int64 nanosecond range the start does not fit: no shortcut then.
  if (__builtin_mul_overflow(minute, std::int64_t{1'000'000'000}, &start_ns)) {
    cell.now_slot = nullptr;
  } else {
    cell.now_slot = slot;
    cell.now_start_ns = start_ns;
  }
  return slot;
}

SymbolChunk* CounterState::add_chunk(MinuteSlot& slot, std::size_t index) {
  auto* chunk = new SymbolChunk();
  // Release: the flusher that sees the pointer sees the zeroed counts.
  slot.chunks[index].store(chunk, std::memory_order_release);
  return chunk;
}

MinuteBatch CounterState::collect(const CollectWindow& window) {
  struct Minute {
    std::uint64_t without_symbol = 0;
    std::map<std::uint32_t, std::uint64_t> by_symbol;
  };
  std::map<std::int64_t, Minute> minutes;

  std::vector<std::shared_ptr<ThreadCell>> cells;
  {
    std::lock_guard lock(cells_mu_);
    cells = cells_;
  }
  bool any_retired = false;
  for (const auto& cell : cells) {
    std::lock_guard lock(cell->mu);
    auto& slots = cell->slots;
    for (std::size_t i = 0; i < slots.size();) {
      MinuteSlot& slot = *slots[i];
      if (!is_due(slot.minute, window)) {
        ++i;
        continue;
      }
      Minute* out = nullptr;
      auto take = [&](std::uint64_t now, std::uint64_t& taken) -> std::uint64_t {
        std::uint64_t delta = now - taken;
        taken = now;
        if (delta != 0 && out == nullptr) out = &minutes[slot.minute];
        return delta;
      };
      std::uint64_t plain =
          take(slot.without_symbol.load(std::memory_order_relaxed), slot.taken_without_symbol);
      if (plain != 0) out->without_symbol += plain;
      for (std::size_t c = 0; c < kChunks; ++c) {
        SymbolChunk* chunk = slot.chunks[c].load(std::memory_order_acquire);
        if (chunk == nullptr) continue;
        if (slot.taken.size() < (c + 1) * kChunkSize) slot.taken.resize((c + 1) * kChunkSize, 0);
        for (std::size_t j = 0; j < kChunkSize; ++j) {
          std::size_t id = c * kChunkSize + j;
          std::uint64_t d = take(chunk->counts[j].load(std::memory_order_relaxed), slot.taken[id]);
          if (d != 0) out->by_symbol[static_cast<std::uint32_t>(id)] += d;
        }
      }
      bool active =
          std::find(cell->active.begin(), cell->active.end(), &slot) != cell->active.end();
      if (active && !cell->orphaned) {
        ++i;  // its owner may still count into it; later counts go out in a later batch
      } else {
        slots.erase(slots.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    if (cell->orphaned && slots.empty()) {
      cell->retired = true;
      any_retired = true;
    }
  }
  if (any_retired) {
    std::lock_guard lock(cells_mu_);
    std::erase_if(cells_, [](const std::shared_ptr<ThreadCell>& c) { return c->retired; });
  }

  MinuteBatch batch;
  batch.target = target_;
  if (minutes.empty()) return batch;
  std::lock_guard lock(symbols_mu_);
  for (auto& [minute, counts] : minutes) {
    MinuteItem item;
    item.minute_start = minute;
    item.total = counts.without_symbol;
    for (auto& [id, n] : counts.by_symbol) {
      item.total += n;
      item.details.emplace_back(symbol_keys_[id], n);
    }
    std::sort(item.details.begin(), item.details.end());
    batch.items.push_back(std::move(item));
  }
  return batch;
}

CounterNotes CounterState::take_notes() {
  CounterNotes n;
  n.truncated = truncated_.exchange(0, std::memory_order_relaxed);
  n.invalid_utf8 = note_invalid_utf8_.exchange(false, std::memory_order_relaxed);
  n.symbol_limit = note_symbol_limit_.exchange(false, std::memory_order_relaxed);
  return n;
}

std::size_t CounterState::held_cells() {
  std::lock_guard lock(cells_mu_);
  return cells_.size();
}

std::size_t CounterState::held_slots() {
  std::lock_guard lock(cells_mu_);
  std::size_t n = 0;
  for (auto& c : cells_) {
    std::lock_guard cell_lock(c->mu);
    n += c->slots.size();
  }
  return n;
}

}  // namespace crosscut::metrics
