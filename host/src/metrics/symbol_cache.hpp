// A thread's own map from symbols as they arrive to the counter's symbol ids, so that a
// symbol is interned (upper-cased, repaired, looked up under the counter's lock) once per
// thread and then found with one hash and a few integer compares. Not synchronised: one
// owner thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace crosscut::metrics {

// A symbol reduced to its length, two words and a hash. Symbols of up to 16 bytes are
// identified exactly by (len, a, b): the words are loads from both ends that together cover
// every byte, and the length says how they overlap; so the common lookup needs no memcmp.
// Longer symbols also compare their text.
struct SymbolProbe {
  std::string_view text;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::uint64_t hash = 0;

  static constexpr std::size_t kExactBytes = 16;

  explicit SymbolProbe(std::string_view s) noexcept : text(s) {
    const char* p = s.data();
    std::size_t n = s.size();
    if (n >= 8) {
      a = load64(p);
      b = load64(p + n - 8);
    } else if (n >= 4) {
      a = load32(p) | (load32(p + n - 4) << 32);
    } else if (n > 0) {
      a = byte(p[0]) | byte(p[n / 2]) << 8 | byte(p[n - 1]) << 16;
    }
    std::uint64_t h = (0x9E3779B97F4A7C15ull ^ n) * 0xFF51AFD7ED558CCDull;
    h = (h ^ a) * 0xC4CEB9FE1A85EC53ull;
    h = (h ^ (h >> 32) ^ b) * 0xFF51AFD7ED558CCDull;
    for (std::size_t i = 8; n > kExactBytes && i + 8 <= n - 8; i += 8)  // the middle, if any
      h = (h ^ (h >> 29) ^ load64(p + i)) * 0xC4CEB9FE1A85EC53ull;
    hash = h ^ (h >> 31);
  }

 private:
  static std::uint64_t load64(const char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  }
  static std::uint64_t load32(const char* p) noexcept {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
  }
  static std::uint64_t byte(char c) noexcept { return static_cast<unsigned char>(c); }
};

class SymbolCache {
 public:
  // Cached symbols beyond this are looked up in the counter each time (hostile input only).
  static constexpr std::size_t kMaxEntries = 1 << 16;

  SymbolCache() : table_(16) {}

  // The id cached for the probed symbol, or false.
  bool find(const SymbolProbe& k, std::uint32_t& id) const noexcept {
    std::size_t mask = table_.size() - 1;
    for (std::size_t i = k.hash & mask;; i = (i + 1) & mask) {
      const Entry& e = table_[i];
      if (!e.used) return false;
      if (e.hash == k.hash && e.len == k.text.size() && e.a == k.a && e.b == k.b &&
          (e.len <= SymbolProbe::kExactBytes || e.text == k.text)) {
        id = e.id;
        return true;
      }
    }
  }

  void insert(const SymbolProbe& k, std::uint32_t id) {
    if (size_ >= kMaxEntries) return;
    if ((size_ + 1) * 2 > table_.size()) grow();
    Entry e;
    e.hash = k.hash;
    e.a = k.a;
    e.b = k.b;
    e.len = k.text.size();
    e.id = id;
    e.used = true;
    if (e.len > SymbolProbe::kExactBytes) e.text = std::string(k.text);
    place(std::move(e));
    ++size_;
  }

  std::size_t size() const noexcept { return size_; }

 private:
  struct Entry {
    std::uint64_t hash = 0;
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::size_t len = 0;
    std::uint32_t id = 0;
    bool used = false;
    std::string text;  // only for symbols longer than kExactBytes
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
