// The host's queue in front of every record sink: it holds each record (in memory, or in a disk
// spool) until the sink confirms delivery, offers retriable failures again with backoff, and
// accounts for everything it could not deliver.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/owned_component.hpp"
#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/record_sink.hpp"
#include "delivery/delivery_options.hpp"
#include "delivery/spool.hpp"

namespace crosscut::delivery {

// What a queue did, for the health record and the exit code.
struct DeliveryCounts {
  std::uint64_t accepted = 0;   // publish() returned true
  std::uint64_t delivered = 0;  // confirmed by the sink
  std::uint64_t retried = 0;    // retriable failures offered again
  std::uint64_t permanent = 0;  // failed for good (too large, not authorised, output closed)
  std::uint64_t refused = 0;    // publish() returned false (full at shutdown, spool I/O error)
  std::uint64_t dropped = 0;    // removed by on_full: drop_oldest
  std::uint64_t waiting = 0;    // accepted, not yet delivered (in memory or in the spool)
  std::uint64_t buffered_bytes = 0;
  std::uint64_t recovered = 0;      // found in the spool from an earlier run
  std::uint64_t corrupt_bytes = 0;  // of the spool, skipped when it was opened
  // After close(): left undelivered. Without a spool they are lost; with one they stay there.
  std::uint64_t left_in_memory = 0;
  std::uint64_t left_in_spool = 0;

  // Accepted records that will never be delivered by this process or a later one.
  std::uint64_t lost() const noexcept { return permanent + refused + dropped + left_in_memory; }
};

// Thread-safety: as sdk::RecordSink; close() from one thread, once.
//
// publish() stores the record (the spool: written before it returns) and returns; one delivery
// thread offers stored records to the sink in order, at most a window at a time, and learns
// each outcome through the record's receipt. Delivered and permanently failed records leave
// the store (a permanent failure is logged once per kind); retriable ones are offered again,
// before anything newer, after a backoff that grows while failures continue (50 ms to 5 s).
// A full store follows on_full: block waits for space (until stop_blocking()), drop_oldest
// removes the oldest records not yet offered (counted, logged once per episode). A producer's
// own receipt is completed when its record is delivered or fails for good.
class DeliveryQueue final : public sdk::RecordSink, private sdk::DeliveryListener {
 public:
  // Opens the spool when options.spool.path is set (throws SpoolError with one line) and logs
  // what an earlier run left in it. `sink` is owned: destroyed in close().
  DeliveryQueue(std::string name, core::OwnedComponent<sdk::RecordSink> sink,
                const DeliveryOptions& options, sdk::Logger& log);
  ~DeliveryQueue() override;
  DeliveryQueue(const DeliveryQueue&) = delete;
  DeliveryQueue& operator=(const DeliveryQueue&) = delete;

  bool publish(sdk::Record record) override;
  // Waits until everything stored (also what an earlier run spooled) is delivered or failed.
  bool flush(std::chrono::steady_clock::time_point deadline) override;
  sdk::DeliveryStats stats() const override;

  // A publish that finds the store full waits no later than `deadline`, then is refused
  // (counted): shutdown must not hang on a sink that never recovers.
  void stop_blocking(std::chrono::steady_clock::time_point deadline);
  // Stops delivering, destroys the sink (which completes what it still holds), records in the
  // spool what was delivered and counts what was not. Later publishes are refused.
  void close();

  DeliveryCounts counts() const;
  // The last failure the sink reported ("" when none), for the shutdown summary.
  std::string last_failure() const;
  const std::string& name() const noexcept { return name_; }
  const std::string& type() const noexcept { return type_; }
  bool spooled() const noexcept { return spooled_; }
  // The plugin's sink (null after close()).
  sdk::RecordSink* sink() const noexcept { return sink_.get(); }

 private:
  struct Entry {
    sdk::Record record;  // its receipt is the producer's (memory store only)
    std::uint64_t bytes = 0;
    bool awaiting_retry = false;  // listed in retry_
  };
  struct Completion {
    std::uint64_t ticket;
    sdk::DeliveryOutcome outcome;
    std::string kind;
    std::string reason;
  };

  void on_delivery(std::uint64_t ticket, sdk::DeliveryOutcome outcome, std::string_view kind,
                   std::string_view reason) noexcept override;
  void run();
  // Both under mu_; `finished` collects producer receipts to complete once mu_ is released.
  void process_completions(std::vector<std::pair<sdk::DeliveryReceipt, Completion>>& finished);
  bool next_to_offer(std::uint64_t& ticket);
  bool outstanding() const;
  void release_spool();
  sdk::DeliveryReceipt take_producer_receipt(std::uint64_t ticket, Entry& entry);
  void note_full(bool dropping);
  std::chrono::milliseconds backoff() const;
  void note_retry(std::chrono::steady_clock::time_point now);
  bool store_in_memory(sdk::Record& record, std::unique_lock<std::mutex>& lock);
  bool publish_to_spool(const sdk::Record& record);
  bool drop_oldest_in_memory();   // under mu_; false when only records the sink holds are left
  bool spool_has_unread() const;  // takes spool_mu_
  std::size_t in_flight() const;  // offered, not completed, not waiting for a retry
  // Logging and producer callbacks decided under mu_ run after it is released: a `record`
  // log sink may publish back into this queue, and a listener may call stats().
  void defer(std::function<void()> action);
  // `fsync: batch`: syncs what was appended (no lock held meanwhile) so it can be offered.
  void sync_spool(std::unique_lock<std::mutex>& lock);
  void run_deferred(std::unique_lock<std::mutex>& lock);

  const std::string name_;
  const std::string type_;
  core::OwnedComponent<sdk::RecordSink> sink_;
  const DeliveryOptions options_;
  sdk::Logger& log_;
  const bool spooled_;

  // Lock order: mu_, then spool_mu_. Appends take spool_mu_ alone, so that writing a record
  // to disk never holds up delivery.
  mutable std::mutex spool_mu_;
  std::unique_ptr<Spool> spool_;  // guarded by spool_mu_ (reset by close())

  mutable std::mutex mu_;
  std::condition_variable wake_;            // the delivery thread
  std::condition_variable space_;           // publishers waiting for room
  std::condition_variable progress_;        // flush() waiting for the store to empty
  std::deque<Entry> unsent_;                // memory store: not yet offered, oldest first
  std::map<std::uint64_t, Entry> offered_;  // offered and not completed, or awaiting a retry
  std::deque<std::uint64_t> retry_;         // tickets of offered_ to offer again
  std::size_t awaiting_retry_ = 0;          // entries of offered_ listed in retry_
  std::vector<std::function<void()>> deferred_;
  int running_deferred_ = 0;
  std::map<std::uint64_t, sdk::DeliveryReceipt> spool_receipts_;  // producers', by seq (spool_mu_)
  bool spool_closing_ = false;                                    // guarded by spool_mu_
  std::deque<std::pair<std::uint64_t, std::string>> read_ahead_;  // read from the spool
  std::vector<Completion> completions_;
  std::size_t completing_ = 0;     // producer receipts being completed outside mu_
  std::uint64_t next_ticket_ = 0;  // memory store; the spool numbers its own
  std::chrono::steady_clock::time_point retry_at_{};
  std::uint32_t consecutive_failures_ = 0;
  std::chrono::steady_clock::time_point block_until_ = std::chrono::steady_clock::time_point::max();
  bool stopping_ = false;
  bool idle_ = false;  // the delivery thread waits for work: publishers must wake it
  bool closed_ = false;
  bool full_episode_ = false;
  bool failure_episode_ = false;
  bool spool_error_episode_ = false;
  std::set<std::string> permanent_kinds_;  // logged once each
  std::string last_failure_;
  DeliveryCounts counts_;

  std::thread thread_;  // last: starts when everything above is ready
};

}  // namespace crosscut::delivery
