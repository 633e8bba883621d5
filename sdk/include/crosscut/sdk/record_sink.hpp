// Record sinks: where error DTOs, metric batches and (optionally) log lines are published.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/component.hpp"
#include "crosscut/sdk/log.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// Where a record came from. A sink reports permanent delivery failures as `kafka_producer`
// (or similar) errors, except for records that are themselves error reports: those failures
// are logged and counted only, so a failing sink cannot feed the error dispatcher in a loop.
enum class RecordOrigin : std::uint8_t { data, error_report };

// How one accepted record ended.
enum class DeliveryOutcome : std::uint8_t {
  delivered,  // written (and flushed to the descriptor) or acknowledged by the broker
  retriable,  // not delivered this time; offering it again may succeed (a timeout, every
              // broker down, a full disk)
  permanent,  // will never be delivered as it is (too large, not authorised, output closed)
};

constexpr std::string_view outcome_name(DeliveryOutcome o) noexcept {
  switch (o) {
    case DeliveryOutcome::delivered:
      return "delivered";
    case DeliveryOutcome::retriable:
      return "retriable";
    case DeliveryOutcome::permanent:
      return "permanent";
  }
  return "unknown";
}

// Learns how the records a producer handed to a sink ended.
//
// Thread-safety: a sink calls on_delivery from whichever thread completes the record (its I/O
// thread, or inside publish(), flush() or its destructor), possibly concurrently. It must not
// block, must not throw and must not publish to the same sink. `reason` names the failure in
// words ("Local: Message timed out", "No space left on device"); `kind` is a short stable name
// for it ("msg_size_too_large", "ENOSPC") that groups failures of one kind; both are empty on
// delivery and valid only during the call.
class CROSSCUT_SDK_API DeliveryListener {
 public:
  virtual void on_delivery(std::uint64_t ticket, DeliveryOutcome outcome, std::string_view kind,
                           std::string_view reason) noexcept = 0;

 protected:
  ~DeliveryListener() = default;
};

// A producer's claim on the outcome of one record. A sink that accepted the record completes
// its receipt exactly once; a receipt without a listener (the producer does not track the
// record) completes as a no-op.
struct DeliveryReceipt {
  DeliveryListener* listener = nullptr;
  std::uint64_t ticket = 0;

  void complete(DeliveryOutcome outcome, std::string_view kind = {},
                std::string_view reason = {}) const noexcept {
    if (listener != nullptr) listener->on_delivery(ticket, outcome, kind, reason);
  }
};

struct Record {
  std::string topic;
  std::string key;
  std::string payload;  // a JSON document
  std::vector<std::pair<std::string, std::string>> headers;
  RecordOrigin origin = RecordOrigin::data;
  // The record's identity for life, the same on every redelivery, so that a consumer can drop
  // duplicates: sinks write it out (the Kafka header `crosscut-id`, the NDJSON envelope's
  // "id"). The host fills it in before a record reaches a sink; empty only when a sink is
  // used directly.
  std::string id;
  DeliveryReceipt receipt;
};

struct DeliveryStats {
  std::uint64_t published = 0;  // accepted by publish()
  std::uint64_t delivered = 0;  // confirmed written / acknowledged
  std::uint64_t failed = 0;     // completed as not delivered (retriable or permanent)
  std::uint64_t dropped = 0;    // refused by publish() (queue full, stopping)
};

// A record destination (component kind `record_sink`).
//
// Thread-safety: publish() and stats() may be called from any thread concurrently; flush()
// from any one thread.
//
// publish() never blocks on I/O (it may wait for queue space up to a configured limit). It
// returns true when the sink accepted the record: the sink then completes `record.receipt`
// exactly once, with the outcome, at the latest while it is destroyed (records still
// outstanding then complete as retriable). It returns false when it refused the record (queue
// full, stopping): the receipt is not completed, the refusal is counted in `dropped`, and the
// record is still the producer's. A sink never retries on its own beyond its transport's
// retries: a retriable outcome hands the record back to the producer, which offers it again.
//
// flush() waits until every record accepted before the call is completed, or the deadline
// passes, and returns true only when nothing is left outstanding.
class CROSSCUT_SDK_API RecordSink : public Component {
 public:
  static constexpr ComponentKind component_kind = ComponentKind::record_sink;

  virtual bool publish(Record record) = 0;
  virtual bool flush(std::chrono::steady_clock::time_point deadline) = 0;
  virtual DeliveryStats stats() const = 0;
};

// The shared mechanics of a record sink: the delivery counters behind stats(), kept in step
// with the receipts. A concrete sink implements publish() and flush() (its I/O), calls
// count_published()/count_dropped() from publish() and completes each accepted record with
// deliver() or fail(); all are lock-free and callable from any thread.
class CROSSCUT_SDK_API CountingRecordSink : public RecordSink {
 public:
  DeliveryStats stats() const final {
    DeliveryStats s;
    s.published = published_.load(std::memory_order_acquire);
    s.delivered = delivered_.load(std::memory_order_acquire);
    s.failed = failed_.load(std::memory_order_acquire);
    s.dropped = dropped_.load(std::memory_order_acquire);
    return s;
  }

 protected:
  void count_published(std::uint64_t n = 1) noexcept {
    published_.fetch_add(n, std::memory_order_release);
  }
  // Counted before the receipt completes, so a producer that learns of the outcome sees it
  // in stats() too.
  void deliver(const DeliveryReceipt& receipt) noexcept {
    delivered_.fetch_add(1, std::memory_order_release);
    receipt.complete(DeliveryOutcome::delivered);
  }
  void fail(const DeliveryReceipt& receipt, DeliveryOutcome outcome, std::string_view kind,
            std::string_view reason) noexcept {
    failed_.fetch_add(1, std::memory_order_release);
    receipt.complete(outcome, kind, reason);
  }
  void count_dropped(std::uint64_t n = 1) noexcept {
    dropped_.fetch_add(n, std::memory_order_release);
  }

 private:
  // Publishers and the delivery path write different counters: separate cache lines.
  alignas(64) std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> dropped_{0};
  alignas(64) std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> failed_{0};
};

// Reports a failing destination once per outage: one error when failures start, one info when
// delivery works again (with how many records failed in between). Thread-safe: any number of
// threads may report failures and recoveries; exactly one of them logs each edge.
class OutageLog {
 public:
  // `log` must outlive this object; `sink` names the sink in both records.
  OutageLog(Logger& log, std::string sink) : log_(log), sink_(std::move(sink)) {}

  // Counts `records` as failed in the current outage; logs `message` with `reason` when this
  // failure starts the outage. Returns true when it did.
  bool failure(std::string_view message, std::string_view reason, std::uint64_t records = 0) {
    failed_in_outage_.fetch_add(records, std::memory_order_relaxed);
    if (in_outage_.exchange(true, std::memory_order_acq_rel)) return false;
    log_.error(message, {{"sink", sink_}, {"error", reason}});
    return true;
  }
  // Ends the outage, if one is under way, with `message` and the count of failed records.
  bool recovered(std::string_view message) {
    if (!in_outage_.load(std::memory_order_relaxed)) return false;
    if (!in_outage_.exchange(false, std::memory_order_acq_rel)) return false;
    log_.info(message,
              {{"sink", sink_},
               {"failed_records", failed_in_outage_.exchange(0, std::memory_order_relaxed)}});
    return true;
  }
  bool in_outage() const noexcept { return in_outage_.load(std::memory_order_relaxed); }

 private:
  Logger& log_;
  const std::string sink_;
  std::atomic<bool> in_outage_{false};
  std::atomic<std::uint64_t> failed_in_outage_{0};
};

CROSSCUT_SDK_END_NAMESPACE
