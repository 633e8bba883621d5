// EventRouter: turns what an input delivers into work for the runtime:
//   message -> the target's minute batch counter (the minute of ts_ms when given)
//   error   -> the error dispatcher
//   outcome -> the resource's breaker
//   log     -> the logger (PII masking and sampling apply as for any record)
// and, on a stream that can answer (sdk::RequestSink), the requests of the socket protocol
// (docs/protocol.md): a line with an "id" gets exactly one reply. `acquire` and `breaker` ask
// the resource's breaker, `flush` is answered once the log sinks took what came before,
// `hello` says what the agent supports; the one-way events with an id are acknowledged once
// handled, a bad one with ok:false and the reason.
// A bad line (not JSON, unknown event, missing or mistyped fields, a target field longer than
// kMaxTargetFieldBytes, over 1 MiB) is counted and reported, rate-limited, with its input and
// line number, and skipped.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "agent/flush_replier.hpp"
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

// Where the router counts the messages of targets named by its input (`message` events and
// inputs that call on_message). The targets are whatever senders write, so an implementation
// should not keep state per target for ever.
//
// Thread-safety: count() is called concurrently from every thread an input delivers on.
class MessageCounting {
 public:
  virtual ~MessageCounting() = default;
  // One message of `target` (fields at most kMaxTargetFieldBytes), in the minute of
  // `event_time_ms` or else the current one. False when it was refused: nothing was counted
  // and the router reports the line as bad.
  virtual bool count(const sdk::Target& target, std::string_view symbol,
                     std::optional<std::int64_t> event_time_ms) = 0;
};

// One per input. Thread-safe (an input may deliver from several threads, e.g. socket clients).
class EventRouter : public sdk::InputSink, public sdk::RequestSink {
 public:
  // The inputs' hard cap on max_line: they bound lines themselves, this only guards the parser.
  static constexpr std::size_t kMaxLine = std::size_t{64} << 20;

  // Counts messages through Runtime::counter(), whose counters are kept for the runtime's
  // lifetime: one per distinct target ever seen. The router's own cache of them is bounded.
  EventRouter(Runtime& runtime, AgentStats& stats, BadLineReporter& bad,
              std::optional<MarketDataMapping> market_data);
  // Counts messages through `counting`, which must outlive the router. The market-data
  // mapping's one target still counts through Runtime::counter().
  EventRouter(Runtime& runtime, AgentStats& stats, BadLineReporter& bad,
              std::optional<MarketDataMapping> market_data, MessageCounting& counting);

  // Counts also in `per_input` (the figures of this router's input alone), which must
  // outlive the router. Before the input runs.
  void count_also_in(AgentStats& per_input) { input_stats_ = &per_input; }
  // Answers `flush` requests through `flushes` (which must outlive the router) instead of
  // waiting for Runtime::flush() on the input's thread. Before the input runs.
  void answer_flushes_through(FlushReplier& flushes) { flushes_ = &flushes; }

  void on_line(std::string_view line, const sdk::InputPosition& where) override;
  void on_message(const sdk::Target& target, std::string_view symbol,
                  std::optional<std::int64_t> event_time_ms) override;
  void on_bad_input(const sdk::InputPosition& where, std::string_view reason) override;
  void on_request_line(std::string_view line, const sdk::InputPosition& where,
                       const std::shared_ptr<sdk::ReplyChannel>& replies) override;

 private:
  // What the router answers: the reply members after "ok":true (`members`, each starting
  // with a comma), or a wait for the log sinks first.
  struct Reply {
    bool requested = false;  // the line carries an id on a stream that can answer
    std::string members;
    bool after_flush = false;
  };

  void handle(std::string_view line, const sdk::InputPosition& where,
              const std::shared_ptr<sdk::ReplyChannel>* replies);
  // Each returns "" when the event was handled, else what is wrong with it.
  std::string route_event(const rapidjson::Value& doc, Reply& reply);
  std::string route_message(const rapidjson::Value& doc);
  std::string route_error(const rapidjson::Value& doc);
  std::string route_outcome(const rapidjson::Value& doc, Reply& reply);
  std::string route_log(const rapidjson::Value& doc);
  std::string route_acquire(const rapidjson::Value& doc, Reply& reply);
  std::string route_breaker(const rapidjson::Value& doc, Reply& reply);
  // Counts one message unless its target is refused; false then.
  bool count_message(const sdk::Target& target, std::string_view symbol,
                     std::optional<std::int64_t> event_time_ms);
  static std::string refused_reason();
  void bump(std::atomic<std::uint64_t> AgentStats::*which);
  EventRouter(Runtime& runtime, AgentStats& stats, BadLineReporter& bad,
              std::optional<MarketDataMapping> market_data,
              std::unique_ptr<MessageCounting> own_counting);

  Runtime& runtime_;
  AgentStats& stats_;
  AgentStats* input_stats_ = nullptr;
  BadLineReporter& bad_;
  std::optional<MarketDataMapping> market_data_;
  MinuteBatchCounter* market_data_counter_ = nullptr;
  std::unique_ptr<MessageCounting> own_counting_;  // the first constructor's
  MessageCounting& counting_;
  FlushReplier* flushes_ = nullptr;  // null: flush on the input's thread
};

}  // namespace crosscut::agent
