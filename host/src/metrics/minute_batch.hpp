// One batch of a counter: the counts of some minutes, ready to be rendered as the JSON
// message documented in docs/
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crosscut/sdk/events.hpp"

namespace crosscut::metrics {

inline constexpr std::int64_t kBucketSizeSec = 60;
inline constexpr int kBatchVersion = 1;

struct MinuteItem {
  std::int64_t minute_start = 0;  // epoch seconds, a multiple of 60
  std::uint64_t total = 0;        // every increment of the minute, with or without a symbol
  std::vector<std::pair<std::string, std::uint64_t>> details;  // "BTC_COUNT" -> n, by key
};

struct MinuteBatch {
  sdk::Target target;
  std::vector<MinuteItem> items;  // sorted by minute_start, no duplicates

  bool empty() const { return items.empty(); }
  std::uint64_t total() const;
};

// "region/exchange/request_type": the record key of the target's batches (valid UTF-8, as
// in the payload).
std::string batch_key(const sdk::Target& target);

// The batch as one JSON document (valid UTF-8 whatever the target strings hold).
// Precondition: !batch.empty().
std::string render_batch_json(const MinuteBatch& batch);

}  // namespace crosscut::metrics
