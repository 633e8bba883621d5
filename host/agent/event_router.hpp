// EventRouter: turns what an input delivers into work for the runtime:
//   message -> the target's minute batch counter (the minute of ts_ms when given)
//   error   -> the error dispatcher
//   outcome -> the resource's breaker
//   log     -> the logger (PII masking and sampling apply as for any record)
// A bad line (not JSON, unknown event, missing or mistyped fields, over 1 MiB) is counted and
// reported, rate-limited, with its input and line number, and skipped.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "agent/market_data_mapping.hpp"
#include "crosscut/runtime.hpp"
#include "crosscut/sdk/input.hpp"

namespace crosscut::agent {

// Totals over every input; read by the health record.
struct AgentStats {
  std::atomic<std::uint64_t> lines{0};
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> outcomes{0};
  std::atomic<std::uint64_t> logs{0};
  std::atomic<std::uint64_t> bad_lines{0};
};

// Logs bad lines, at most `per_minute` per input per minute; the rest are counted and their
// number said in the next report. Thread-safe.
class BadLineReporter {
 public:
  BadLineReporter(Logger log, std::uint32_t per_minute) : log_(log), per_minute_(per_minute) {}
  void report(const sdk::InputPosition& where, std::string_view reason);

 private:
  struct Window {
    std::chrono::steady_clock::time_point start{};
    std::uint32_t logged = 0;
    std::uint64_t unlogged = 0;
  };
  Logger log_;
  std::uint32_t per_minute_;
  std::mutex mu_;
  std::map<std::string, Window, std::less<>> windows_;
};

// One per input. Thread-safe (an input may deliver from several threads, e.g. socket clients).
class EventRouter : public sdk::InputSink {
 public:
  static constexpr std::size_t kMaxLine = 1 << 20;

  EventRouter(Runtime& runtime, AgentStats& stats, BadLineReporter& bad,
              std::optional<MarketDataMapping> market_data);

  void on_line(std::string_view line, const sdk::InputPosition& where) override;
  void on_message(const sdk::Target& target, std::string_view symbol,
                  std::optional<std::int64_t> event_time_ms) override;
  void on_bad_input(const sdk::InputPosition& where, std::string_view reason) override;

 private:
  // Each returns "" when the event was handled, else what is wrong with it.
  std::string route_event(const rapidjson::Value& doc);
  std::string route_message(const rapidjson::Value& doc);
  std::string route_error(const rapidjson::Value& doc);
  std::string route_outcome(const rapidjson::Value& doc);
  std::string route_log(const rapidjson::Value& doc);
  MinuteBatchCounter& counter_for(const sdk::Target& target);

  Runtime& runtime_;
  AgentStats& stats_;
  BadLineReporter& bad_;
  std::optional<MarketDataMapping> market_data_;
  MinuteBatchCounter* market_data_counter_ = nullptr;

  std::mutex counters_mu_;
  std::unordered_map<std::string, MinuteBatchCounter*> counters_;  // key: exchange\0region\0type
};

}  // namespace crosscut::agent
