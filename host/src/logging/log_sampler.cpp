#include "logging/log_sampler.hpp"

namespace crosscut::logging {

LogSampler::LogSampler(std::uint32_t per_second, std::size_t max_templates)
    : per_second_(per_second), max_per_shard_(max_templates / kShards + 1) {}

LogSampler::Decision LogSampler::admit(const void* logger, std::string_view message,
                                       sdk::Level level, std::int64_t epoch_second) {
  if (per_second_ == 0) return {};
  const KeyView key{logger, message};
  Shard& shard = shards_[Hash{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.templates.find(key);
  if (it == shard.templates.end()) {
    if (shard.templates.size() >= max_per_shard_) {
      // Forget templates that owe nothing and are not in their current second.
      std::erase_if(shard.templates, [&](const auto& kv) {
        return kv.second.pending == 0 && kv.second.second != epoch_second;
      });
      if (shard.templates.size() >= max_per_shard_) return {};
    }
    it =
        shard.templates.emplace(Key{logger, std::string(message)}, State{epoch_second, 0, 0, level})
            .first;
  }
  State& s = it->second;
  if (s.second != epoch_second) {
    s.second = epoch_second;
    s.count = 0;
  }
  if (s.count >= per_second_) {
    ++s.pending;
    s.level = level;
    return {false, 0};
  }
  ++s.count;
  return {true, std::exchange(s.pending, 0)};
}

std::vector<LogSampler::Pending> LogSampler::take_pending() {
  std::vector<Pending> out;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (auto& [key, s] : shard.templates) {
      if (s.pending == 0) continue;
      out.push_back({key.logger, key.message, s.level, std::exchange(s.pending, 0)});
    }
  }
  return out;
}

}  // namespace crosscut::logging
