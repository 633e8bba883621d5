// Test helpers for the metrics service: a recording record sink with a scriptable refusal
// policy, and a parser that checks every published batch and adds it up.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "crosscut/sdk/sdk.hpp"
#include "metrics/metrics_options.hpp"
#include "metrics/metrics_service.hpp"
#include "support/test_host.hpp"

namespace crosscut::testing {

// Keeps every accepted record. `refuse(attempt)` (attempt counts every publish() call from
// 0) decides refusals; flush() answers `flush_result`.
class RecordingSink : public sdk::RecordSink {
 public:
  std::function<bool(std::uint64_t attempt)> refuse;
  std::atomic<bool> flush_result{true};

  bool publish(sdk::Record record) override {
    std::lock_guard lock(mu_);
    std::uint64_t attempt = attempts_++;
    if (refuse && refuse(attempt)) {
      ++stats_.dropped;
      return false;
    }
    ++stats_.published;
    ++stats_.delivered;
    records_.push_back(std::move(record));
    return true;
  }
  bool flush(std::chrono::steady_clock::time_point) override {
    ++flushes_;
    return flush_result.load();
  }
  sdk::DeliveryStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }
  std::vector<sdk::Record> records() const {
    std::lock_guard lock(mu_);
    return records_;
  }
  std::uint64_t attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }
  int flushes() const { return flushes_.load(); }

 private:
  mutable std::mutex mu_;
  std::vector<sdk::Record> records_;
  sdk::DeliveryStats stats_;
  std::uint64_t attempts_ = 0;
  std::atomic<int> flushes_{0};
};

struct ParsedItem {
  std::int64_t minute = 0;
  std::uint64_t total = 0;
  std::map<std::string, std::uint64_t> details;
};

struct ParsedBatch {
  std::string region, exchange, request_type;
  std::int64_t range_start = 0, range_end = 0;
  std::vector<ParsedItem> items;
};

// Parses one payload (UTF-8 validated) and checks the batch invariants that hold for every
// batch: sorted distinct minutes, range fields, bucket size, version, total >= details.
inline ParsedBatch parse_batch(const std::string& payload) {
  ParsedBatch b;
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(payload.c_str(), payload.size());
  EXPECT_FALSE(d.HasParseError()) << rapidjson::GetParseError_En(d.GetParseError()) << " in "
                                  << payload;
  if (d.HasParseError()) return b;
  b.region = d["region"].GetString();
  b.exchange = d["exchange"].GetString();
  b.request_type = d["request_type"].GetString();
  const auto& batch = d["batch"];
  b.range_start = batch["range_start_ts_kst"].GetInt64();
  b.range_end = batch["range_end_ts_kst"].GetInt64();
  EXPECT_EQ(batch["bucket_size_sec"].GetInt(), 60);
  EXPECT_EQ(batch["version"].GetInt(), 1);
  for (const auto& it : batch["items"].GetArray()) {
    ParsedItem item;
    item.minute = it["minute_start_ts_kst"].GetInt64();
    item.total = it["total"].GetUint64();
    std::uint64_t detail_sum = 0;
    for (const auto& m : it["details"].GetObject()) {
      item.details[m.name.GetString()] = m.value.GetUint64();
      detail_sum += m.value.GetUint64();
    }
    EXPECT_EQ(item.minute % 60, 0);
    EXPECT_GE(item.total, detail_sum);
    EXPECT_GT(item.total, 0u);
    if (!b.items.empty()) {
      EXPECT_LT(b.items.back().minute, item.minute) << payload;
    }
    b.items.push_back(std::move(item));
  }
  EXPECT_FALSE(b.items.empty()) << "an empty batch was published";
  if (!b.items.empty()) {
    EXPECT_EQ(b.range_start, b.items.front().minute);
    EXPECT_EQ(b.range_end, b.items.back().minute + 59);
  }
  return b;
}

// Everything published, added up.
struct PublishedTotals {
  std::uint64_t total = 0;
  std::map<std::string, std::uint64_t> by_key;                             // detail key -> n
  std::map<std::int64_t, std::map<std::string, std::uint64_t>> by_minute;  // minute -> key -> n
  std::map<std::int64_t, std::uint64_t> total_by_minute;
  std::size_t batches = 0;
};

inline PublishedTotals add_up(const std::vector<sdk::Record>& records) {
  PublishedTotals t;
  for (const auto& r : records) {
    ParsedBatch b = parse_batch(r.payload);
    EXPECT_EQ(r.key, b.region + "/" + b.exchange + "/" + b.request_type);
    ++t.batches;
    for (const auto& item : b.items) {
      t.total += item.total;
      t.total_by_minute[item.minute] += item.total;
      for (const auto& [k, n] : item.details) {
        t.by_key[k] += n;
        t.by_minute[item.minute][k] += n;
      }
    }
  }
  return t;
}

// Adds up every accepted batch as it arrives (checking each, as parse_batch does) and keeps
// nothing else: for runs that publish too many batches to keep.
class SummingSink : public sdk::RecordSink {
 public:
  bool publish(sdk::Record record) override {
    ParsedBatch b = parse_batch(record.payload);
    std::lock_guard lock(mu_);
    ++batches_;
    for (const auto& item : b.items) {
      total_ += item.total;
      for (const auto& [k, n] : item.details) by_key_[k] += n;
    }
    return true;
  }
  bool flush(std::chrono::steady_clock::time_point) override { return true; }
  sdk::DeliveryStats stats() const override { return {}; }
  std::uint64_t total() const {
    std::lock_guard lock(mu_);
    return total_;
  }
  std::uint64_t batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::map<std::string, std::uint64_t> by_key() const {
    std::lock_guard lock(mu_);
    return by_key_;
  }

 private:
  mutable std::mutex mu_;
  std::uint64_t total_ = 0;
  std::uint64_t batches_ = 0;
  std::map<std::string, std::uint64_t> by_key_;
};

inline sdk::Target upbit_ticker() {
  return sdk::Target{"upbit", "korea", "ticker"};
}

// A service wired to test doubles.
struct MetricsFixture {
  ManualClock clock;  // 2025-01-23 08:00:00 UTC, a minute boundary
  RecordingSink sink;
  InlineEventBus bus;
  CapturingLogger log{"metrics"};
  std::mutex errors_mu;
  std::vector<sdk::ErrorEvent> errors;

  metrics::MetricsService::ErrorCallback error_callback() {
    return [this](sdk::ErrorEvent e) {
      std::lock_guard lock(errors_mu);
      errors.push_back(std::move(e));
    };
  }
  std::size_t error_count() {
    std::lock_guard lock(errors_mu);
    return errors.size();
  }
  std::size_t logs_containing(const std::string& text) const {
    std::size_t n = 0;
    for (const auto& r : log.records())
      if (r.message.find(text) != std::string::npos) ++n;
    return n;
  }
};

inline std::chrono::steady_clock::time_point in_seconds(int s) {
  return std::chrono::steady_clock::now() + std::chrono::seconds(s);
}

}  // namespace crosscut::testing
