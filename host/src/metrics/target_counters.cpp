#include "metrics/target_counters.hpp"

#include <algorithm>
#include <cstring>

#include "metrics/symbol_key.hpp"

namespace crosscut::metrics {

PreparedSymbol prepare_symbol(std::string_view symbol) {
  PreparedSymbol out;
  if (symbol.empty()) return out;
  if (symbol.size() > kMaxSymbolBytes) {
    symbol = symbol.substr(0, kMaxSymbolBytes);
    out.truncated = true;
  }
  SymbolRepairs repairs;
  out.key = key_for_symbol(symbol, &repairs);
  out.invalid_utf8 = repairs.invalid_utf8;
  return out;
}

bool target_fits(const sdk::Target& target) noexcept {
  return target.exchange.size() <= kMaxTargetFieldBytes &&
         target.region.size() <= kMaxTargetFieldBytes &&
         target.request_type.size() <= kMaxTargetFieldBytes;
}

TargetCounters::TargetCounters() : shards_(std::make_unique<Shard[]>(kShards)) {}

TargetCounters::~TargetCounters() = default;

TargetCounters::HashedKey TargetCounters::key_of(const sdk::Target& target,
                                                 std::array<char, kKeyCapacity>& buffer) {
  std::size_t n = 0;
  for (const std::string* field : {&target.exchange, &target.region, &target.request_type}) {
    buffer[n++] = static_cast<char>(static_cast<unsigned char>(field->size()));
    std::memcpy(buffer.data() + n, field->data(), field->size());
    n += field->size();
  }
  std::string_view text(buffer.data(), n);
  return {text, std::hash<std::string_view>{}(text)};
}

sdk::Target TargetCounters::target_of(std::string_view key) {
  sdk::Target target;
  std::size_t at = 0;
  for (std::string* field : {&target.exchange, &target.region, &target.request_type}) {
    std::size_t len = static_cast<unsigned char>(key[at++]);
    field->assign(key.substr(at, len));
    at += len;
  }
  return target;
}

TargetCounters::Counted TargetCounters::count(const sdk::Target& target,
                                              const PreparedSymbol& symbol, std::int64_t minute,
                                              std::int64_t now_ns) {
  std::array<char, kKeyCapacity> buffer;
  const HashedKey key = key_of(target, buffer);
  Shard& shard = shard_for(key.hash);
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) return {};
  return count_in(it->second, symbol, minute, now_ns);
}

TargetCounters::Counted TargetCounters::add(const sdk::Target& target, MinuteBatchCounter* retained,
                                            const PreparedSymbol& symbol, std::int64_t minute,
                                            std::int64_t now_ns) {
  std::array<char, kKeyCapacity> buffer;
  const HashedKey key = key_of(target, buffer);
  Shard& shard = shard_for(key.hash);
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) {
    it = shard.entries.emplace(std::string(key.text), Entry{}).first;
    it->second.retained = retained;
    live_.fetch_add(1, std::memory_order_relaxed);
    created_.fetch_add(1, std::memory_order_relaxed);
  }
  return count_in(it->second, symbol, minute, now_ns);
}

TargetCounters::Counted TargetCounters::count_in(Entry& entry, const PreparedSymbol& symbol,
                                                 std::int64_t minute, std::int64_t now_ns) {
  entry.last_count_ns = std::max(entry.last_count_ns, now_ns);
  if (entry.retained != nullptr) return {true, entry.retained};
  MinuteCounts& counts = entry.minutes[minute];
  ++counts.total;
  if (symbol.key.empty()) return {true, nullptr};
  std::uint32_t id;
  auto found = entry.symbol_ids.find(symbol.key);
  if (found != entry.symbol_ids.end()) {
    id = found->second;
  } else if (entry.symbol_keys.size() < kMaxSymbols) {
    id = static_cast<std::uint32_t>(entry.symbol_keys.size());
    found = entry.symbol_ids.emplace(symbol.key, id).first;
    entry.symbol_keys.push_back(&found->first);
  } else {
    over_limit_.fetch_add(1, std::memory_order_relaxed);
    return {true, nullptr};  // in the total only, as a retained counter does
  }
  if (counts.by_symbol.size() <= id) counts.by_symbol.resize(id + 1, 0);
  ++counts.by_symbol[id];
  return {true, nullptr};
}

void TargetCounters::retain(const sdk::Target& target, MinuteBatchCounter* retained) {
  if (!target_fits(target)) return;  // such a target never has an entry
  std::array<char, kKeyCapacity> buffer;
  const HashedKey key = key_of(target, buffer);
  Shard& shard = shard_for(key.hash);
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(key);
  // Counts already in the entry stay there and are collected as usual.
  if (it != shard.entries.end()) it->second.retained = retained;
}

std::size_t TargetCounters::collect(const CollectWindow& window, std::int64_t idle_cutoff_ns,
                                    const std::function<void(const MinuteBatch&)>& emit) {
  std::size_t released = 0;
  std::vector<MinuteBatch> out;
  for (std::size_t s = 0; s < kShards; ++s) {
    out.clear();
    collect_shard(shards_[s], window, idle_cutoff_ns, out, released);
    for (const MinuteBatch& batch : out) emit(batch);
  }
  live_.fetch_sub(released, std::memory_order_relaxed);
  released_.fetch_add(released, std::memory_order_relaxed);
  return released;
}

void TargetCounters::collect_shard(Shard& shard, const CollectWindow& window,
                                   std::int64_t idle_cutoff_ns, std::vector<MinuteBatch>& out,
                                   std::size_t& released) {
  std::lock_guard lock(shard.mu);
  for (auto it = shard.entries.begin(); it != shard.entries.end();) {
    Entry& entry = it->second;
    MinuteBatch* batch = nullptr;
    for (auto m = entry.minutes.begin(); m != entry.minutes.end();) {
      if (!is_due(m->first, window)) {
        ++m;
        continue;
      }
      if (batch == nullptr) {
        batch = &out.emplace_back();
        batch->target = target_of(it->first);
      }
      MinuteItem& item = batch->items.emplace_back();
      item.minute_start = m->first;
      item.total = m->second.total;
      const auto& by_symbol = m->second.by_symbol;
      for (std::size_t id = 0; id < by_symbol.size(); ++id)
        if (by_symbol[id] != 0) item.details.emplace_back(*entry.symbol_keys[id], by_symbol[id]);
      std::sort(item.details.begin(), item.details.end());
      m = entry.minutes.erase(m);
    }
    if (entry.minutes.empty() && entry.last_count_ns <= idle_cutoff_ns) {
      it = shard.entries.erase(it);
      ++released;
    } else {
      ++it;
    }
  }
}

TargetCounters::Stats TargetCounters::stats() const {
  Stats s;
  s.live = live_.load(std::memory_order_relaxed);
  s.created = created_.load(std::memory_order_relaxed);
  s.released = released_.load(std::memory_order_relaxed);
  s.over_limit = over_limit_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace crosscut::metrics
