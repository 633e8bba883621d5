#include "delivery/delivery_queue.hpp"

#include <unistd.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "delivery/spooled_record.hpp"
#include "errors/error_id.hpp"

namespace crosscut::delivery {
namespace {

using namespace std::chrono_literals;

// Records offered to the sink and not yet completed: bounds memory with a spool and keeps a
// sink's own queue from being the place records pile up in.
constexpr std::size_t kWindow = 4096;
constexpr std::size_t kOfferBatch = 512;  // records taken from the store per lock hold
// Records read from the spool at once: under `fsync: batch`, one fdatasync covers them all.
constexpr std::size_t kReadAhead = 4096;
constexpr auto kMinBackoff = 50ms;
constexpr auto kMaxBackoff = 5000ms;

std::uint64_t record_bytes(const sdk::Record& r) {
  std::uint64_t n = 96 + r.topic.size() + r.key.size() + r.payload.size() + r.id.size();
  for (const auto& [name, value] : r.headers) n += 32 + name.size() + value.size();
  return n;
}

}  // namespace

DeliveryQueue::DeliveryQueue(std::string name, core::OwnedComponent<sdk::RecordSink> sink,
                             const DeliveryOptions& options, sdk::Logger& log)
    : name_(std::move(name)),
      type_(sink.type()),
      sink_(std::move(sink)),
      options_(options),
      log_(log),
      spooled_(!options_.spool.path.empty()) {
  if (spooled_) {
    SpoolSettings settings;
    settings.dir = options_.spool.path;
    settings.max_bytes = options_.spool.max_size.bytes;
    settings.fsync = options_.spool.fsync;
    spool_ = std::make_unique<Spool>(settings);
    const SpoolRecovery& r = spool_->recovery();
    counts_.recovered = r.records;
    counts_.corrupt_bytes = r.corrupt_bytes;
    if (r.corrupt_bytes != 0)
      log_.error("spool held corrupt or torn data; it was skipped (records in it are lost)",
                 {{"sink", name_},
                  {"bytes", r.corrupt_bytes},
                  {"regions", r.corrupt_regions},
                  {"first", r.first_corruption}});
    if (r.cursor_unreadable)
      log_.warning("spool cursor unreadable; every record still in the spool is delivered again",
                   {{"sink", name_}, {"path", options_.spool.path}});
    if (r.records != 0)
      log_.info("spool holds records from an earlier run; delivering them first",
                {{"sink", name_}, {"records", r.records}, {"bytes", r.bytes}});
  }
  thread_ = std::thread([this] { run(); });
}

DeliveryQueue::~DeliveryQueue() {
  close();
}

bool DeliveryQueue::publish(sdk::Record record) {
  if (record.id.empty()) record.id = make_uuid_v4();
  if (spooled_) return publish_to_spool(record);
  std::unique_lock lock(mu_);
  const bool stored = !closed_ && store_in_memory(record, lock);
  ++(stored ? counts_.accepted : counts_.refused);
  const bool wake = stored && idle_;
  run_deferred(lock);
  lock.unlock();
  if (wake) wake_.notify_one();  // a busy delivery thread finds the record on its next pass
  return stored;
}

bool DeliveryQueue::store_in_memory(sdk::Record& record, std::unique_lock<std::mutex>& lock) {
  const std::uint64_t bytes = record_bytes(record);
  const std::uint64_t limit = options_.memory_buffer.max_size.bytes;
  if (bytes > limit) {
    defer([this, bytes, limit] {
      log_.error("record larger than the sink's buffer; refused",
                 {{"sink", name_}, {"bytes", bytes}, {"buffer", limit}});
    });
    return false;
  }
  while (counts_.buffered_bytes + bytes > limit) {
    if (closed_) return false;
    if (options_.memory_buffer.on_full == sdk::OverflowPolicy::drop_oldest &&
        drop_oldest_in_memory()) {
      note_full(true);
      continue;
    }
    note_full(false);
    run_deferred(lock);  // the episode's log line before the wait, outside the lock
    if (closed_) return false;
    if (counts_.buffered_bytes + bytes <= limit) break;
    // Re-checked every 10 ms: a record the sink refused becomes droppable without a wake-up.
    const auto now = std::chrono::steady_clock::now();
    if (now >= block_until_) return false;
    space_.wait_until(lock, std::min(block_until_, now + std::chrono::milliseconds(10)));
  }
  counts_.buffered_bytes += bytes;
  if (counts_.buffered_bytes <= limit / 2) full_episode_ = false;  // the episode is over
  unsent_.push_back(Entry{std::move(record), bytes});
  return true;
}

bool DeliveryQueue::drop_oldest_in_memory() {
  // The oldest record the sink does not hold: one waiting for a retry, else one not yet offered.
  Entry dropped;
  bool found = false;
  while (!retry_.empty() && !found) {
    auto it = offered_.find(retry_.front());
    retry_.pop_front();
    if (it == offered_.end() || !it->second.awaiting_retry) continue;
    --awaiting_retry_;
    dropped = std::move(it->second);
    offered_.erase(it);
    found = true;
  }
  if (!found && !unsent_.empty()) {
    dropped = std::move(unsent_.front());
    unsent_.pop_front();
    found = true;
  }
  if (!found) return false;
  counts_.buffered_bytes -= dropped.bytes;
  ++counts_.dropped;
  defer([receipt = dropped.record.receipt] {
    receipt.complete(sdk::DeliveryOutcome::permanent, "dropped_oldest",
                     "dropped: the sink's buffer was full");
  });
  progress_.notify_all();
  return true;
}

bool DeliveryQueue::publish_to_spool(const sdk::Record& record) {
  thread_local std::string body;
  body.clear();
  encode_record(record, body);
  for (;;) {
    std::uint64_t seq = 0;
    std::string error;
    Spool::Append result = Spool::Append::failed;
    bool below_half = false;
    {
      // The write happens under the spool's lock only: delivery goes on meanwhile. The
      // producer's receipt is registered in the same hold, before the reader can see the record.
      std::lock_guard spool_lock(spool_mu_);
      if (spool_closing_) {
        error = "the sink is closed";
      } else {
        result = spool_->append(body, seq, error);
        below_half = spool_->bytes() <= options_.spool.max_size.bytes / 2;
        if (result == Spool::Append::ok && record.receipt.listener != nullptr)
          spool_receipts_.emplace(seq, record.receipt);
      }
    }
    std::unique_lock lock(mu_);
    switch (result) {
      case Spool::Append::ok: {
        if (below_half) full_episode_ = false;
        spool_error_episode_ = false;
        ++counts_.accepted;
        const bool wake = idle_;
        run_deferred(lock);
        lock.unlock();
        if (wake) wake_.notify_one();
        return true;
      }
      case Spool::Append::failed:
        if (!closed_) {
          if (!spool_error_episode_)
            defer([this, error] {
              log_.error("cannot write to the spool; records are refused until it works again",
                         {{"sink", name_}, {"error", error}});
            });
          spool_error_episode_ = true;
          last_failure_ = error;
        }
        ++counts_.refused;
        run_deferred(lock);
        return false;
      case Spool::Append::full:
        break;
    }
    if (closed_) {
      ++counts_.refused;
      return false;
    }
    if (options_.spool.on_full == sdk::OverflowPolicy::drop_oldest) {
      std::uint64_t lost = 0;
      bool dropped = false;
      {
        std::lock_guard spool_lock(spool_mu_);
        dropped = spool_->drop_oldest(lost);
        if (dropped) {
          // Producers of records that went with the segment unread learn it now; those read
          // ahead or offered are still delivered.
          const std::uint64_t read =
              read_ahead_.empty() ? spool_->read_seq() : read_ahead_.front().first;
          for (auto it = spool_receipts_.begin();
               it != spool_receipts_.end() && it->first < spool_->first_seq();) {
            if (offered_.count(it->first) != 0 || it->first >= read) {
              ++it;
              continue;
            }
            defer([receipt = it->second] {
              receipt.complete(sdk::DeliveryOutcome::permanent, "dropped_oldest",
                               "dropped: the sink's spool was full");
            });
            it = spool_receipts_.erase(it);
          }
        }
      }
      if (dropped) {
        note_full(true);
        counts_.dropped += lost;
        progress_.notify_all();
        continue;
      }
    }
    note_full(false);
    run_deferred(lock);
    // Space frees when delivered segments go; the short wait bounds a wake-up missed between
    // the append above and this wait.
    const auto now = std::chrono::steady_clock::now();
    if (now >= block_until_ || closed_) {
      ++counts_.refused;
      return false;
    }
    space_.wait_until(lock, std::min(block_until_, now + std::chrono::milliseconds(10)));
  }
}

void DeliveryQueue::sync_spool(std::unique_lock<std::mutex>& lock) {
  std::uint64_t upto = 0;
  int fd = -1;
  {
    std::lock_guard spool_lock(spool_mu_);
    if (spool_ == nullptr) return;
    fd = spool_->begin_sync(upto);
  }
  if (fd < 0) return;
  // The fdatasync holds neither lock: publishers keep appending meanwhile (a group commit).
  lock.unlock();
  const bool synced = ::fdatasync(fd) == 0;
  ::close(fd);
  lock.lock();
  std::lock_guard spool_lock(spool_mu_);
  if (spool_ != nullptr && synced) spool_->end_sync(upto);
  // A failed sync leaves the records unreadable until a later sync (or a roll) succeeds.
  if (!synced && spool_ != nullptr) spool_->mark_unsynced();
}

void DeliveryQueue::defer(std::function<void()> action) {
  deferred_.push_back(std::move(action));
}

void DeliveryQueue::run_deferred(std::unique_lock<std::mutex>& lock) {
  if (deferred_.empty()) return;
  std::vector<std::function<void()>> actions;
  actions.swap(deferred_);
  ++running_deferred_;  // flush() waits for them too: what it reports has been logged
  lock.unlock();
  for (auto& a : actions) a();
  lock.lock();
  --running_deferred_;
  progress_.notify_all();
}

void DeliveryQueue::note_full(bool dropping) {
  if (full_episode_) return;
  full_episode_ = true;
  const bool spooled = spooled_;
  const std::uint64_t max_size =
      spooled ? options_.spool.max_size.bytes : options_.memory_buffer.max_size.bytes;
  const std::uint64_t dropped = counts_.dropped;
  defer([this, dropping, spooled, max_size, dropped] {
    log_.warning(dropping ? "sink's store of undelivered records is full; dropping the oldest"
                          : "sink's store of undelivered records is full; publishers wait",
                 {{"sink", name_},
                  {"store", spooled ? "spool" : "memory"},
                  {"max_size", max_size},
                  {"dropped_so_far", dropped}});
  });
}

void DeliveryQueue::on_delivery(std::uint64_t ticket, sdk::DeliveryOutcome outcome,
                                std::string_view kind, std::string_view reason) noexcept {
  bool wake = false;
  try {
    std::lock_guard lock(mu_);
    completions_.push_back(Completion{ticket, outcome, std::string(kind), std::string(reason)});
    wake = idle_;
  } catch (...) {
    return;  // out of memory: the record stays offered and is redelivered after a restart
  }
  if (wake) wake_.notify_one();
}

std::chrono::milliseconds DeliveryQueue::backoff() const {
  const auto shift =
      std::min<std::uint32_t>(consecutive_failures_ > 0 ? consecutive_failures_ - 1 : 0, 7);
  return std::min<std::chrono::milliseconds>(kMinBackoff * (1U << shift), kMaxBackoff);
}

void DeliveryQueue::note_retry(std::chrono::steady_clock::time_point now) {
  // One step of backoff per round of attempts: the failures of records offered together (a
  // window timing out at once) count as one.
  if (now < retry_at_) return;
  ++consecutive_failures_;
  retry_at_ = now + backoff();
}

sdk::DeliveryReceipt DeliveryQueue::take_producer_receipt(std::uint64_t ticket, Entry& entry) {
  if (!spooled_) return entry.record.receipt;
  std::lock_guard spool_lock(spool_mu_);
  auto it = spool_receipts_.find(ticket);
  if (it == spool_receipts_.end()) return {};
  sdk::DeliveryReceipt r = it->second;
  spool_receipts_.erase(it);
  return r;
}

void DeliveryQueue::process_completions(
    std::vector<std::pair<sdk::DeliveryReceipt, Completion>>& finished) {
  std::vector<Completion> done;
  done.swap(completions_);
  const auto now = std::chrono::steady_clock::now();
  for (auto& c : done) {
    auto it = offered_.find(c.ticket);
    if (it == offered_.end()) continue;  // completed twice by a faulty sink: the first counts
    switch (c.outcome) {
      case sdk::DeliveryOutcome::delivered:
        ++counts_.delivered;
        if (failure_episode_)
          defer([this, retried = counts_.retried] {
            log_.info("sink delivers again", {{"sink", name_}, {"retried", retried}});
          });
        consecutive_failures_ = 0;
        failure_episode_ = false;
        retry_at_ = now;  // it works again: what waits for a retry goes now
        break;
      case sdk::DeliveryOutcome::retriable:
        ++counts_.retried;
        note_retry(now);
        last_failure_ = c.reason.empty() ? c.kind : c.reason;
        if (!failure_episode_)
          defer([this, error = last_failure_, kind = c.kind] {
            log_.warning("sink could not deliver; records are kept and offered again",
                         {{"sink", name_}, {"error", error}, {"kind", kind}});
          });
        failure_episode_ = true;
        if (!it->second.awaiting_retry) {
          it->second.awaiting_retry = true;
          ++awaiting_retry_;
          retry_.push_back(c.ticket);
        }
        continue;  // stays offered
      case sdk::DeliveryOutcome::permanent:
        ++counts_.permanent;
        last_failure_ = c.reason.empty() ? c.kind : c.reason;
        if (permanent_kinds_.insert(c.kind).second)
          defer([this, kind = c.kind, reason = c.reason] {
            log_.error("sink cannot deliver records of this kind; they are dropped (counted)",
                       {{"sink", name_}, {"kind", kind}, {"error", reason}});
          });
        break;
    }
    if (!spooled_) counts_.buffered_bytes -= it->second.bytes;
    if (it->second.awaiting_retry) --awaiting_retry_;  // a faulty sink completed it twice
    sdk::DeliveryReceipt producer = take_producer_receipt(c.ticket, it->second);
    if (producer.listener != nullptr) finished.emplace_back(producer, std::move(c));
    offered_.erase(it);
  }
  if (!done.empty()) {
    if (spooled_) release_spool();
    space_.notify_all();
    progress_.notify_all();
  }
}

void DeliveryQueue::release_spool() {
  std::lock_guard spool_lock(spool_mu_);
  std::uint64_t watermark = read_ahead_.empty() ? spool_->read_seq() : read_ahead_.front().first;
  if (!offered_.empty()) watermark = std::min(watermark, offered_.begin()->first);
  spool_->release_before(watermark);
}

std::size_t DeliveryQueue::in_flight() const {
  return offered_.size() - awaiting_retry_;
}

bool DeliveryQueue::next_to_offer(std::uint64_t& ticket) {
  if (in_flight() >= kWindow) return false;
  while (!retry_.empty()) {
    if (std::chrono::steady_clock::now() < retry_at_) return false;
    ticket = retry_.front();
    retry_.pop_front();
    auto it = offered_.find(ticket);
    if (it == offered_.end() || !it->second.awaiting_retry) continue;  // completed meanwhile
    it->second.awaiting_retry = false;
    --awaiting_retry_;
    return true;
  }
  if (!spooled_) {
    if (unsent_.empty()) return false;
    ticket = next_ticket_++;
    offered_.emplace(ticket, std::move(unsent_.front()));
    unsent_.pop_front();
    return true;
  }
  if (read_ahead_.empty()) {
    std::lock_guard spool_lock(spool_mu_);
    std::uint64_t seq = 0;
    std::string body;
    while (read_ahead_.size() < kReadAhead && spool_->read_next(seq, body))
      read_ahead_.emplace_back(seq, std::move(body));
  }
  while (!read_ahead_.empty()) {
    auto [seq, body] = std::move(read_ahead_.front());
    read_ahead_.pop_front();
    Entry e;
    if (!decode_record(body, e.record)) {
      // Checksummed but not a record this host writes: counted as lost, never crashes.
      ++counts_.permanent;
      defer([this, skipped = seq] {
        log_.error("spool record could not be decoded; skipped",
                   {{"sink", name_}, {"seq", skipped}});
      });
      progress_.notify_all();
      continue;
    }
    e.bytes = body.size();
    ticket = seq;
    offered_.emplace(ticket, std::move(e));
    return true;
  }
  return false;
}

bool DeliveryQueue::spool_has_unread() const {
  if (!spooled_) return false;
  std::lock_guard spool_lock(spool_mu_);
  return spool_ != nullptr && spool_->read_seq() < spool_->end_seq();
}

bool DeliveryQueue::outstanding() const {
  if (!offered_.empty() || !unsent_.empty() || completing_ != 0 || !read_ahead_.empty() ||
      !deferred_.empty() || running_deferred_ != 0)
    return true;
  return !closed_ && spool_has_unread();
}

void DeliveryQueue::run() {
  std::vector<std::pair<sdk::DeliveryReceipt, Completion>> finished;
  std::vector<std::pair<std::uint64_t, sdk::Record>> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    process_completions(finished);
    // Producers hear of their records before flush() may return.
    completing_ = finished.size();
    run_deferred(lock);
    if (!finished.empty()) {
      lock.unlock();
      for (auto& [receipt, c] : finished) receipt.complete(c.outcome, c.kind, c.reason);
      finished.clear();
      lock.lock();
      completing_ = 0;
      progress_.notify_all();
      continue;
    }
    if (stopping_) return;
    if (spooled_ && options_.spool.fsync == FsyncPolicy::batch) sync_spool(lock);
    // Offer a batch: one lock hold to take it, none while the sink works on it.
    batch.clear();
    std::uint64_t ticket = 0;
    while (sink_ && batch.size() < kOfferBatch && next_to_offer(ticket)) {
      sdk::Record copy = offered_.at(ticket).record;  // kept: a retriable failure offers it again
      copy.receipt = {this, ticket};
      batch.emplace_back(ticket, std::move(copy));
    }
    if (!batch.empty()) {
      lock.unlock();
      std::size_t accepted = 0;
      for (; accepted < batch.size(); ++accepted) {
        bool ok = false;
        try {
          ok = sink_->publish(std::move(batch[accepted].second));
        } catch (const std::exception& e) {
          log_.error("sink threw from publish()", {{"sink", name_}, {"error", e.what()}});
        } catch (...) {
          log_.error("sink threw from publish()", {{"sink", name_}});
        }
        if (!ok) break;
      }
      lock.lock();
      if (accepted < batch.size()) {
        // Refused (its queue is full): not a delivery failure, but back off all the same. The
        // refused record and the rest of the batch go first next time, in order.
        for (std::size_t i = batch.size(); i-- > accepted;) {
          auto it = offered_.find(batch[i].first);
          if (it == offered_.end() || it->second.awaiting_retry) continue;
          it->second.awaiting_retry = true;
          ++awaiting_retry_;
          retry_.push_front(batch[i].first);
        }
        space_.notify_all();  // refused records may now be dropped by drop_oldest
        note_retry(std::chrono::steady_clock::now());
      }
      continue;
    }
    if (spooled_) release_spool();
    run_deferred(lock);
    if (stopping_ || !completions_.empty()) continue;
    const bool waiting_retry = !retry_.empty() && in_flight() < kWindow;
    auto ready = [&] {
      return stopping_ || !completions_.empty() ||
             (in_flight() < kWindow && retry_.empty() &&
              (!unsent_.empty() || !read_ahead_.empty() || spool_has_unread()));
    };
    idle_ = true;
    if (waiting_retry)
      wake_.wait_until(lock, retry_at_, ready);
    else
      wake_.wait(lock, ready);
    idle_ = false;
  }
}

bool DeliveryQueue::flush(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return progress_.wait_until(lock, deadline, [&] { return !outstanding() || closed_; }) &&
         !outstanding();
}

sdk::DeliveryStats DeliveryQueue::stats() const {
  std::lock_guard lock(mu_);
  sdk::DeliveryStats s;
  s.published = counts_.accepted;
  s.delivered = counts_.delivered;
  s.failed = counts_.permanent + counts_.dropped;
  s.dropped = counts_.refused;
  return s;
}

void DeliveryQueue::stop_blocking(std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    block_until_ = std::min(block_until_, deadline);
  }
  space_.notify_all();
}

void DeliveryQueue::close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    block_until_ = std::chrono::steady_clock::time_point::min();
    stopping_ = true;
  }
  {
    std::lock_guard spool_lock(spool_mu_);
    spool_closing_ = true;  // appends from now on are refused
  }
  space_.notify_all();
  wake_.notify_all();
  progress_.notify_all();
  if (thread_.joinable()) thread_.join();
  // The sink completes what it still holds while it is destroyed (delivered, or retriable).
  sink_ = {};
  std::vector<std::pair<sdk::DeliveryReceipt, Completion>> finished;
  {
    std::lock_guard lock(mu_);
    process_completions(finished);
    const std::uint64_t left = offered_.size() + unsent_.size();
    if (spooled_) {
      std::lock_guard spool_lock(spool_mu_);
      std::uint64_t watermark =
          read_ahead_.empty() ? spool_->read_seq() : read_ahead_.front().first;
      if (!offered_.empty()) watermark = std::min(watermark, offered_.begin()->first);
      spool_->release_before(watermark, true);
      counts_.left_in_spool = spool_->unreleased();
      // Records held in memory whose segment was dropped meanwhile exist nowhere else: lost.
      const std::uint64_t first = spool_->first_seq();
      std::set<std::uint64_t> gone;
      for (const auto& [seq, e] : offered_)
        if (seq < first) gone.insert(seq);
      for (const auto& [seq, body] : read_ahead_)
        if (seq < first) gone.insert(seq);
      counts_.left_in_memory += gone.size();
      for (auto& [seq, receipt] : spool_receipts_) {
        if (gone.count(seq) != 0)
          finished.emplace_back(receipt,
                                Completion{seq, sdk::DeliveryOutcome::permanent, "dropped_oldest",
                                           "dropped: the spool was full"});
        else
          finished.emplace_back(receipt, Completion{seq, sdk::DeliveryOutcome::retriable, "spooled",
                                                    "kept in the spool for the next run"});
      }
      spool_receipts_.clear();
    } else {
      counts_.left_in_memory = left;
      for (auto& [ticket, e] : offered_)
        finished.emplace_back(e.record.receipt,
                              Completion{ticket, sdk::DeliveryOutcome::retriable, "shutdown",
                                         "not delivered before shutdown"});
      for (auto& e : unsent_)
        finished.emplace_back(e.record.receipt,
                              Completion{0, sdk::DeliveryOutcome::retriable, "shutdown",
                                         "not delivered before shutdown"});
    }
    offered_.clear();
    unsent_.clear();
    retry_.clear();
    read_ahead_.clear();
    counts_.buffered_bytes = 0;
  }
  std::vector<std::function<void()>> actions;
  {
    std::lock_guard lock(mu_);
    actions.swap(deferred_);
  }
  for (auto& a : actions) a();
  for (auto& [receipt, c] : finished) receipt.complete(c.outcome, c.kind, c.reason);
  std::scoped_lock both(mu_, spool_mu_);
  spool_.reset();  // syncs, writes the cursor, releases the lock
}

DeliveryCounts DeliveryQueue::counts() const {
  std::lock_guard lock(mu_);
  DeliveryCounts c = counts_;
  if (!closed_) {
    c.waiting = offered_.size() + unsent_.size();
    if (spooled_) {
      std::lock_guard spool_lock(spool_mu_);
      c.waiting = spool_ != nullptr ? spool_->unreleased() : 0;
    }
  }
  return c;
}

std::string DeliveryQueue::last_failure() const {
  std::lock_guard lock(mu_);
  return last_failure_;
}

}  // namespace crosscut::delivery
