// Per-template sampling: at most N records a second per (logger, message template); the
// rest are counted and the count rides on the next record of that template that is written.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crosscut/sdk/log.hpp"

namespace crosscut::logging {

// Thread-safe; the table is split into shards so threads logging different templates
// rarely share a lock. Conservation: every admit() either returns emit=true or adds one to a
// pending count that a later emit=true admit() or take_pending() hands back exactly once.
class LogSampler {
 public:
  struct Decision {
    bool emit = true;
    std::uint64_t suppressed = 0;  // to report on this record ("suppressed": N); 0: none
  };
  struct Pending {
    const void* logger = nullptr;
    std::string message;
    sdk::Level level = sdk::Level::info;
    std::uint64_t suppressed = 0;
  };

  // per_second == 0 disables sampling. At most `max_templates` templates are tracked; beyond
  // that, new templates pass unsampled (a bound on memory for dynamic messages).
  explicit LogSampler(std::uint32_t per_second, std::size_t max_templates = 16384);

  Decision admit(const void* logger, std::string_view message, sdk::Level level,
                 std::int64_t epoch_second);

  // Takes every pending suppressed count (each reported once); used at shutdown.
  std::vector<Pending> take_pending();

 private:
  struct KeyView {
    const void* logger;
    std::string_view message;
  };
  struct Key {
    const void* logger;
    std::string message;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(const KeyView& k) const noexcept {
      return std::hash<std::string_view>{}(k.message) ^
             (std::hash<const void*>{}(k.logger) * 0x9E3779B97F4A7C15ull);
    }
    std::size_t operator()(const Key& k) const noexcept {
      return (*this)(KeyView{k.logger, k.message});
    }
  };
  struct Equal {
    using is_transparent = void;
    static KeyView view(const Key& k) { return {k.logger, k.message}; }
    static KeyView view(const KeyView& k) { return k; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      KeyView x = view(a), y = view(b);
      return x.logger == y.logger && x.message == y.message;
    }
  };
  struct State {
    std::int64_t second = 0;
    std::uint32_t count = 0;
    std::uint64_t pending = 0;
    sdk::Level level = sdk::Level::info;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<Key, State, Hash, Equal> templates;
  };
  static constexpr std::size_t kShards = 16;

  std::uint32_t per_second_;
  std::size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace crosscut::logging
