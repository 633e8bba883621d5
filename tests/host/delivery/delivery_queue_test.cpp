// The delivery queue in front of every record sink: retries, permanent failures, bounds, the
// spool across restarts, and what it accounts for at close.
#include "delivery/delivery_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/process.hpp"
#include "support/test_host.hpp"

namespace crosscut::delivery {
namespace {

using namespace std::chrono_literals;
using sdk::DeliveryOutcome;

// A sink whose outcome per attempt is scripted; completes receipts on its own thread, as real
// sinks do. Records still held at destruction complete as retriable (the contract).
class ScriptedSink final : public sdk::CountingRecordSink {
 public:
  // Decides each attempt's outcome: (record, attempt number of this id from 0).
  std::function<DeliveryOutcome(const sdk::Record&, int)> outcome = [](const sdk::Record&, int) {
    return DeliveryOutcome::delivered;
  };
  std::atomic<bool> refuse{false};  // publish() returns false
  std::atomic<bool> hold{false};    // accept but never complete (until destruction)

  ScriptedSink() : worker_([this] { run(); }) {}
  ~ScriptedSink() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    worker_.join();
    for (auto& r : held_) fail(r.receipt, DeliveryOutcome::retriable, "shutdown", "sink stopped");
  }

  bool publish(sdk::Record record) override {
    if (refuse) {
      count_dropped();
      return false;
    }
    count_published();
    {
      std::lock_guard lock(mu_);
      if (hold) {
        held_.push_back(std::move(record));
        return true;
      }
      queue_.push_back(std::move(record));
    }
    cv_.notify_all();
    return true;
  }
  bool flush(std::chrono::steady_clock::time_point) override { return true; }

  // Ids delivered, with how often each was delivered.
  std::map<std::string, int> delivered_ids() const {
    std::lock_guard lock(mu_);
    return delivered_;
  }
  std::vector<std::string> delivered_payloads() const {
    std::lock_guard lock(mu_);
    return payloads_;
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      sdk::Record r = std::move(queue_.front());
      queue_.pop_front();
      const int attempt = attempts_[r.id]++;
      const DeliveryOutcome o = outcome(r, attempt);
      if (o == DeliveryOutcome::delivered) {
        ++delivered_[r.id];
        payloads_.push_back(r.payload);
      }
      lock.unlock();
      if (o == DeliveryOutcome::delivered)
        deliver(r.receipt);
      else
        fail(r.receipt, o, o == DeliveryOutcome::permanent ? "too_large" : "timed_out",
             o == DeliveryOutcome::permanent ? "record too large" : "timed out");
      lock.lock();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<sdk::Record> queue_;
  std::vector<sdk::Record> held_;
  std::map<std::string, int> attempts_;
  std::map<std::string, int> delivered_;
  std::vector<std::string> payloads_;
  bool stopping_ = false;
  std::thread worker_;
};

struct Queue {
  ScriptedSink* sink = nullptr;
  std::unique_ptr<DeliveryQueue> queue;
};

Queue make_queue(const DeliveryOptions& options, testing::CapturingLogger& log,
                 const std::function<void(ScriptedSink&)>& setup = {}) {
  auto owned = std::make_unique<ScriptedSink>();
  ScriptedSink* sink = owned.get();
  if (setup) setup(*sink);
  core::OwnedComponent<sdk::RecordSink> component(nullptr, std::move(owned), sink, "scripted",
                                                  "out");
  return {sink, std::make_unique<DeliveryQueue>("out", std::move(component), options, log)};
}

sdk::Record record(int i) {
  sdk::Record r;
  r.topic = "t";
  r.key = "k" + std::to_string(i);
  r.payload = "{\"n\":" + std::to_string(i) + "}";
  return r;
}

std::chrono::steady_clock::time_point in(std::chrono::milliseconds d) {
  return std::chrono::steady_clock::now() + d;
}

std::size_t count_logs(const testing::CapturingLogger& log, const std::string& text) {
  std::size_t n = 0;
  for (const auto& r : log.records())
    if (r.message.find(text) != std::string::npos) ++n;
  return n;
}

// Records the outcome each producer receipt completed with.
class ProducerListener final : public sdk::DeliveryListener {
 public:
  void on_delivery(std::uint64_t ticket, DeliveryOutcome outcome, std::string_view,
                   std::string_view) noexcept override {
    std::lock_guard lock(mu_);
    outcomes_[ticket].push_back(outcome);
  }
  std::map<std::uint64_t, std::vector<DeliveryOutcome>> outcomes() const {
    std::lock_guard lock(mu_);
    return outcomes_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::uint64_t, std::vector<DeliveryOutcome>> outcomes_;
};

TEST(DeliveryQueue, RetriableFailuresAreOfferedAgainUntilDeliveredExactlyOnce) {
  testing::CapturingLogger log("delivery");
  // Every record times out twice before it is delivered.
  auto q = make_queue({}, log, [](ScriptedSink& s) {
    s.refuse = true;  // until every record is stored: they then go out together
    s.outcome = [](const sdk::Record&, int attempt) {
      return attempt < 2 ? DeliveryOutcome::retriable : DeliveryOutcome::delivered;
    };
  });
  ProducerListener producer;
  for (int i = 0; i < 200; ++i) {
    sdk::Record r = record(i);
    r.receipt = {&producer, static_cast<std::uint64_t>(i)};
    ASSERT_TRUE(q.queue->publish(std::move(r)));
  }
  q.sink->refuse = false;
  ASSERT_TRUE(q.queue->flush(in(60s)));
  const auto ids = q.sink->delivered_ids();
  EXPECT_EQ(ids.size(), 200u);
  for (const auto& [id, times] : ids) {
    EXPECT_EQ(times, 1) << id;
    EXPECT_EQ(id.size(), 36u) << "every record gets a UUID before it reaches the sink";
  }
  const auto c = q.queue->counts();
  EXPECT_EQ(c.delivered, 200u);
  EXPECT_EQ(c.retried, 400u);
  EXPECT_EQ(c.lost(), 0u);
  // Each producer learns once, and only of the final outcome.
  const auto outcomes = producer.outcomes();
  EXPECT_EQ(outcomes.size(), 200u);
  for (const auto& [ticket, list] : outcomes)
    EXPECT_EQ(list, std::vector<DeliveryOutcome>{DeliveryOutcome::delivered}) << ticket;
  // Once per episode of failures (not per record), each ended by a recovery.
  EXPECT_GE(count_logs(log, "could not deliver; records are kept"), 1u);
  EXPECT_EQ(count_logs(log, "delivers again"), count_logs(log, "could not deliver"));
}

TEST(DeliveryQueue, PermanentFailuresAreCountedAndLoggedOncePerKind) {
  testing::CapturingLogger log("delivery");
  auto q = make_queue({}, log, [](ScriptedSink& s) {
    s.outcome = [](const sdk::Record& r, int) {
      return r.key == "k3" || r.key == "k7" ? DeliveryOutcome::permanent
                                            : DeliveryOutcome::delivered;
    };
  });
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.queue->publish(record(i)));
  ASSERT_TRUE(q.queue->flush(in(30s)));
  const auto c = q.queue->counts();
  EXPECT_EQ(c.delivered, 8u);
  EXPECT_EQ(c.permanent, 2u);
  EXPECT_EQ(c.lost(), 2u);
  EXPECT_EQ(q.queue->last_failure(), "record too large");
  EXPECT_EQ(count_logs(log, "cannot deliver records of this kind"), 1u);
}

TEST(DeliveryQueue, AnIdGivenByTheProducerIsKept) {
  testing::CapturingLogger log("delivery");
  auto q = make_queue({}, log);
  sdk::Record r = record(1);
  r.id = "error-id-1";
  ASSERT_TRUE(q.queue->publish(r));
  ASSERT_TRUE(q.queue->flush(in(30s)));
  EXPECT_EQ(q.sink->delivered_ids().count("error-id-1"), 1u);
}

TEST(DeliveryQueue, ASinkRefusingPublishesIsBackedOffNotDropped) {
  testing::CapturingLogger log("delivery");
  auto q = make_queue({}, log, [](ScriptedSink& s) { s.refuse = true; });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(q.queue->publish(record(i)));
  EXPECT_FALSE(q.queue->flush(in(200ms)));
  EXPECT_EQ(q.queue->counts().waiting, 20u);
  q.sink->refuse = false;
  ASSERT_TRUE(q.queue->flush(in(30s)));
  EXPECT_EQ(q.sink->delivered_ids().size(), 20u);
}

TEST(DeliveryQueue, AFullMemoryBufferMakesPublishersWaitThenRefusesAtTheDeadline) {
  testing::CapturingLogger log("delivery");
  DeliveryOptions options;
  options.memory_buffer.max_size.bytes = 64 * 1024;
  auto q = make_queue(options, log, [](ScriptedSink& s) { s.hold = true; });
  sdk::Record big = record(0);
  big.payload.assign(1000, 'x');
  int accepted = 0;
  // The sink holds everything, so the buffer fills; set a deadline so the publish that finds
  // it full returns (refused) instead of waiting for ever.
  q.queue->stop_blocking(in(300ms));
  while (q.queue->publish(big)) ++accepted;
  EXPECT_GT(accepted, 40);
  EXPECT_LT(accepted, 70);
  const auto c = q.queue->counts();
  EXPECT_EQ(c.refused, 1u);
  EXPECT_LE(c.buffered_bytes, options.memory_buffer.max_size.bytes);
  EXPECT_EQ(count_logs(log, "full; publishers wait"), 1u);
  q.queue->close();
  // Held by the sink until it was destroyed, then completed retriable: lost without a spool.
  EXPECT_EQ(q.queue->counts().left_in_memory, static_cast<std::uint64_t>(accepted));
  EXPECT_EQ(q.queue->counts().lost(), static_cast<std::uint64_t>(accepted) + 1);
}

TEST(DeliveryQueue, ABlockedPublisherResumesWhenTheSinkDelivers) {
  testing::CapturingLogger log("delivery");
  DeliveryOptions options;
  options.memory_buffer.max_size.bytes = 64 * 1024;
  std::atomic<bool> down{true};
  auto q = make_queue(options, log, [&](ScriptedSink& s) {
    s.outcome = [&](const sdk::Record&, int) {
      return down ? DeliveryOutcome::retriable : DeliveryOutcome::delivered;
    };
  });
  sdk::Record big = record(0);
  big.payload.assign(1000, 'x');
  std::atomic<int> published{0};
  std::thread producer([&] {
    for (int i = 0; i < 300; ++i) {
      big.key = std::to_string(i);
      if (q.queue->publish(big)) ++published;
    }
  });
  // The producer fills the buffer and waits; the log says so once.
  while (count_logs(log, "full; publishers wait") == 0) std::this_thread::yield();
  EXPECT_LT(published.load(), 300);
  down = false;
  producer.join();
  ASSERT_TRUE(q.queue->flush(in(60s)));
  EXPECT_EQ(published.load(), 300);
  EXPECT_EQ(q.sink->delivered_ids().size(), 300u);
  EXPECT_EQ(q.queue->counts().lost(), 0u);
}

TEST(DeliveryQueue, DropOldestDropsTheOldestAndCountsThem) {
  testing::CapturingLogger log("delivery");
  DeliveryOptions options;
  options.memory_buffer.max_size.bytes = 64 * 1024;
  options.memory_buffer.on_full = sdk::OverflowPolicy::drop_oldest;
  auto q = make_queue(options, log, [](ScriptedSink& s) { s.refuse = true; });
  sdk::Record big = record(0);
  big.payload.assign(1000, 'x');
  for (int i = 0; i < 200; ++i) {
    big.key = std::to_string(i);
    ASSERT_TRUE(q.queue->publish(big));
  }
  const auto c = q.queue->counts();
  EXPECT_GT(c.dropped, 100u);
  EXPECT_EQ(c.dropped + c.waiting, 200u);
  EXPECT_EQ(count_logs(log, "dropping the oldest"), 1u);
  q.sink->refuse = false;
  ASSERT_TRUE(q.queue->flush(in(30s)));
  EXPECT_EQ(q.sink->delivered_ids().size(), c.waiting);
}

TEST(DeliveryQueue, SpooledRecordsSurviveACloseAndAreDeliveredFirstWithTheirIds) {
  testing::TempDir dir;
  testing::CapturingLogger log("delivery");
  DeliveryOptions options;
  options.spool.path = (dir.path() / "spool").string();
  std::set<std::string> first_ids;
  {
    auto q = make_queue(options, log, [](ScriptedSink& s) {
      s.outcome = [](const sdk::Record&, int) { return DeliveryOutcome::retriable; };
    });
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(q.queue->publish(record(i)));
    EXPECT_FALSE(q.queue->flush(in(100ms)));
    q.queue->close();
    EXPECT_EQ(q.queue->counts().left_in_spool, 100u);
    EXPECT_EQ(q.queue->counts().lost(), 0u);
  }
  auto q = make_queue(options, log);
  EXPECT_EQ(q.queue->counts().recovered, 100u);
  ASSERT_TRUE(q.queue->publish(record(100)));
  ASSERT_TRUE(q.queue->flush(in(30s)));
  const auto payloads = q.sink->delivered_payloads();
  ASSERT_EQ(payloads.size(), 101u);
  for (int i = 0; i <= 100; ++i)
    EXPECT_EQ(payloads[static_cast<std::size_t>(i)], record(i).payload) << "in order";
  EXPECT_EQ(q.sink->delivered_ids().size(), 101u);
  q.queue->close();
  EXPECT_EQ(q.queue->counts().left_in_spool, 0u);
  EXPECT_EQ(count_logs(log, "holds records from an earlier run"), 1u);
}

TEST(DeliveryQueue, ASpoolThatIsFullBlocksOrDropsTheOldest) {
  testing::TempDir dir;
  testing::CapturingLogger log("delivery");
  DeliveryOptions options;
  options.spool.path = (dir.path() / "spool").string();
  options.spool.max_size.bytes = 1 << 20;
  options.spool.fsync = FsyncPolicy::never;
  options.spool.on_full = sdk::OverflowPolicy::drop_oldest;
  auto q = make_queue(options, log, [](ScriptedSink& s) { s.refuse = true; });
  sdk::Record big = record(0);
  big.payload.assign(2000, 'x');
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(q.queue->publish(big));
  const auto c = q.queue->counts();
  EXPECT_GT(c.dropped, 0u);
  EXPECT_EQ(count_logs(log, "dropping the oldest"), 1u);
  q.queue->close();
  const auto closed = q.queue->counts();
  EXPECT_EQ(closed.left_in_spool + closed.dropped + closed.left_in_memory, 2000u);
}

TEST(DeliveryQueue, ProducerReceiptsOfUndeliveredRecordsCompleteAtClose) {
  testing::CapturingLogger log("delivery");
  auto q = make_queue({}, log, [](ScriptedSink& s) { s.hold = true; });
  ProducerListener producer;
  for (int i = 0; i < 5; ++i) {
    sdk::Record r = record(i);
    r.receipt = {&producer, static_cast<std::uint64_t>(i)};
    ASSERT_TRUE(q.queue->publish(std::move(r)));
  }
  q.queue->close();
  const auto outcomes = producer.outcomes();
  ASSERT_EQ(outcomes.size(), 5u);
  for (const auto& [ticket, list] : outcomes)
    EXPECT_EQ(list, std::vector<DeliveryOutcome>{DeliveryOutcome::retriable});
  EXPECT_FALSE(q.queue->publish(record(9))) << "closed";
}

}  // namespace
}  // namespace crosscut::delivery
