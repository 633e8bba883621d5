// A thread's own map from symbols as they arrive to the counter's symbol ids, so that a
// symbol is interned (upper-cased, repaired, looked up under the counter's lock) once per
// thread and then found with one hash and one comparison. Not synchronised: one owner thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace crosscut::metrics {

inline std::uint64_t hash_symbol(std::string_view s) noexcept {
  auto load32 = [](const char* p) {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    return std::uint64_t{w};
  };
  const char* p = s.data();
  std::size_t n = s.size();
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
  while (n > 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  // The last 1..8 bytes in at most two loads that may overlap (never past the end).
  std::uint64_t tail;
  if (n >= 4)
    tail = load32(p) | (load32(p + n - 4) << 32);
  else if (n > 0)
    tail = std::uint64_t(static_cast<unsigned char>(p[0])) |
           std::uint64_t(static_cast<unsigned char>(p[n / 2])) << 8 |
           std::uint64_t(static_cast<unsigned char>(p[n - 1])) << 16;
  else
    tail = 0;
  h = (h ^ tail) * 0xC4CEB9FE1A85EC53ull;
  return h ^ (h >> 29);
}

class SymbolCache {
 public:
  // Cached symbols beyond this are looked up in the counter each time (hostile input only).
  static constexpr std::size_t kMaxEntries = 1 << 16;

  SymbolCache() : table_(16) {}

  // The id cached for `symbol` (hashed as `hash`), or false.
  bool find(std::string_view symbol, std::uint64_t hash, std::uint32_t& id) const noexcept {
    std::size_t mask = table_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Entry& e = table_[i];
      if (!e.used) return false;
      if (e.hash == hash && e.text == symbol) {
        id = e.id;
        return true;
      }
    }
  }

  void insert(std::string_view symbol, std::uint64_t hash, std::uint32_t id) {
    if (size_ >= kMaxEntries) return;
    if ((size_ + 1) * 2 > table_.size()) grow();
    place(Entry{hash, id, true, std::string(symbol)});
    ++size_;
  }

  std::size_t size() const noexcept { return size_; }

 private:
  struct Entry {
    std::uint64_t hash = 0;
    std::uint32_t id = 0;
    bool used = false;
    std::string text;
  };

  void place(Entry e) {
    std::size_t mask = table_.size() - 1;
    std::size_t i = e.hash & mask;
    while (table_[i].used) i = (i + 1) & mask;
    table_[i] = std::move(e);
  }
  void grow() {
    std::vector<Entry> old(table_.size() * 2);
    old.swap(table_);
    for (auto& e : old)
      if (e.used) place(std::move(e));
  }

  std::vector<Entry> table_;  // open addressing, linear probing, size a power of two
  std::size_t size_ = 0;
};

}  // namespace crosscut::metrics
