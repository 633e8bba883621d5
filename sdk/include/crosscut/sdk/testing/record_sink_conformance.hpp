// The record sink conformance suite: the delivery contract of sdk::RecordSink, receipt by
// receipt. Every RecordSink (stdout/file, Kafka, third-party) must pass it against a healthy
// destination.
//
// In exactly one .cpp of a GoogleTest program (the header defines the tests):
//
//   #include "crosscut/sdk/testing/record_sink_conformance.hpp"
//
//   CROSSCUT_RECORD_SINK_CONFORMANCE(MySink, [] {
//     return std::make_unique<MySink>(/* ... */);   // any std::unique_ptr<RecordSink>
//   });
//
// and link GTest::gtest_main (or your own main). The factory runs once per test, on the test's
// thread, and must return a sink whose destination works (a writable file, a reachable
// broker): every outcome the suite sees must then be `delivered`. Records go to the topic
// "crosscut.conformance" with JSON payloads; some carry ids, headers, empty keys or the
// error_report origin. The suite checks what the contract promises:
//
//   - every accepted record's receipt completes exactly once, refused ones never;
//   - once flush(deadline) returned true, every record accepted before it is completed;
//   - stats(): published == accepted, delivered == delivered outcomes, dropped == refusals,
//     and a completion is counted before its listener hears of it;
//   - records still outstanding when the sink is destroyed complete during the destructor;
//   - publishers on four threads at once, and records without a listener, are fine.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "crosscut/sdk/record_sink.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// Readable GoogleTest failure messages for outcomes (found by ADL).
inline void PrintTo(DeliveryOutcome o, std::ostream* os) {
  *os << outcome_name(o);
}

CROSSCUT_SDK_END_NAMESPACE

namespace crosscut::sdk::testing {

// Makes a fresh sink for one test. Called on the test's thread, once per test.
using RecordSinkFactory = std::function<std::unique_ptr<RecordSink>()>;

// A DeliveryListener that keeps every completion, by ticket. Thread-safe.
class ReceiptLog final : public DeliveryListener {
 public:
  struct Completion {
    DeliveryOutcome outcome;
    std::string kind;
    std::string reason;
  };

  void on_delivery(std::uint64_t ticket, DeliveryOutcome outcome, std::string_view kind,
                   std::string_view reason) noexcept override {
    {
      std::lock_guard lock(mu_);
      by_ticket_[ticket].push_back({outcome, std::string(kind), std::string(reason)});
      ++total_;
    }
    if (hook_) hook_();
  }

  // Runs after each completion was recorded, on the completing thread. Set before use.
  void set_hook(std::function<void()> hook) { hook_ = std::move(hook); }

  DeliveryReceipt receipt(std::uint64_t ticket) { return {this, ticket}; }

  std::vector<Completion> completions(std::uint64_t ticket) const {
    std::lock_guard lock(mu_);
    auto it = by_ticket_.find(ticket);
    return it == by_ticket_.end() ? std::vector<Completion>{} : it->second;
  }
  std::uint64_t total() const {
    std::lock_guard lock(mu_);
    return total_;
  }
  std::uint64_t count(DeliveryOutcome outcome) const {
    std::lock_guard lock(mu_);
    std::uint64_t n = 0;
    for (const auto& [ticket, cs] : by_ticket_)
      for (const auto& c : cs) n += c.outcome == outcome ? 1 : 0;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::uint64_t, std::vector<Completion>> by_ticket_;
  std::uint64_t total_ = 0;
  std::function<void()> hook_;
};

class RecordSinkConformance : public ::testing::TestWithParam<RecordSinkFactory> {
 protected:
  static constexpr std::chrono::seconds kDeadline{60};

  void SetUp() override {
    sink_ = GetParam()();
    ASSERT_NE(sink_, nullptr) << "the conformance factory returned no sink";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    id_prefix_ = "conformance-" + std::string(info->name()) + "-";
  }
  // The sink goes before the log: its destructor may still complete receipts.
  void TearDown() override { sink_.reset(); }

  static std::chrono::steady_clock::time_point deadline() {
    return std::chrono::steady_clock::now() + kDeadline;
  }

  // A record for `ticket`, tracked by log_ unless `tracked` is false. Every third has no id,
  // every fourth no key; headers vary.
  Record make_record(std::uint64_t ticket, bool tracked = true) {
    Record r;
    r.topic = "crosscut.conformance";
    r.key = ticket % 4 == 3 ? std::string() : "key-" + std::to_string(ticket % 8);
    r.payload = "{\"ticket\":" + std::to_string(ticket) + ",\"pad\":\"" +
                std::string(ticket % 64, 'p') + "\"}";
    if (ticket % 3 != 2) r.id = id_prefix_ + std::to_string(ticket);
    for (std::uint64_t h = 0; h < ticket % 3; ++h)
      r.headers.emplace_back("h" + std::to_string(h), "v" + std::to_string(ticket));
    if (tracked) r.receipt = log_.receipt(ticket);
    return r;
  }

  // Publishes `r` and notes whether it was accepted.
  bool publish(Record r) {
    const std::uint64_t ticket = r.receipt.ticket;
    const bool tracked = r.receipt.listener != nullptr;
    const bool ok = sink_->publish(std::move(r));
    std::lock_guard lock(mu_);
    if (tracked) (ok ? accepted_ : refused_).push_back(ticket);
    (ok ? accepted_count_ : refused_count_) += 1;
    return ok;
  }

  // Every accepted ticket completed exactly once (as `expected`, unless null), no refused one.
  void expect_completed_once(const DeliveryOutcome* expected) {
    std::lock_guard lock(mu_);
    std::size_t wrong = 0;
    for (const std::uint64_t t : accepted_) {
      const auto cs = log_.completions(t);
      if (cs.size() != 1 || (expected != nullptr && cs[0].outcome != *expected)) {
        if (++wrong <= 5) {
          ADD_FAILURE() << "ticket " << t << ": " << cs.size() << " completions"
                        << (cs.empty()
                                ? std::string()
                                : ", first " + std::string(outcome_name(cs[0].outcome)) +
                                      " kind '" + cs[0].kind + "' reason '" + cs[0].reason + "'");
        }
      }
    }
    EXPECT_EQ(wrong, 0u) << "of " << accepted_.size() << " accepted records";
    for (const std::uint64_t t : refused_)
      EXPECT_TRUE(log_.completions(t).empty()) << "refused ticket " << t << " was completed";
  }
  void expect_all_delivered_once() {
    const DeliveryOutcome delivered = DeliveryOutcome::delivered;
    expect_completed_once(&delivered);
  }

  // stats() agrees with what publish() returned and with the receipts (all records tracked).
  void expect_stats_match_receipts() {
    const DeliveryStats s = sink_->stats();
    std::lock_guard lock(mu_);
    EXPECT_EQ(s.published, accepted_count_);
    EXPECT_EQ(s.dropped, refused_count_);
    EXPECT_EQ(s.delivered, log_.count(DeliveryOutcome::delivered));
    EXPECT_EQ(s.failed,
              log_.count(DeliveryOutcome::retriable) + log_.count(DeliveryOutcome::permanent));
    EXPECT_EQ(s.failed, 0u) << "a healthy destination failed records";
  }

  std::uint64_t accepted_count() const {
    std::lock_guard lock(mu_);
    return accepted_count_;
  }
  std::uint64_t accepted_tracked() const {
    std::lock_guard lock(mu_);
    return accepted_.size();
  }

  ReceiptLog log_;  // before sink_: outlives it
  std::unique_ptr<RecordSink> sink_;

 private:
  std::string id_prefix_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> accepted_;  // tracked tickets publish() accepted
  std::vector<std::uint64_t> refused_;   // tracked tickets publish() refused
  std::uint64_t accepted_count_ = 0;     // all records, tracked or not
  std::uint64_t refused_count_ = 0;
};

TEST_P(RecordSinkConformance, FlushWithNothingPublishedReturnsTrue) {
  EXPECT_TRUE(sink_->flush(deadline()));
  const DeliveryStats s = sink_->stats();
  EXPECT_EQ(s.published, 0u);
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(log_.total(), 0u);
}

TEST_P(RecordSinkConformance, AcceptedRecordsAreDeliveredOnceAndFlushMeansCompleted) {
  constexpr std::uint64_t kRecords = 300;
  ASSERT_TRUE(publish(make_record(0))) << "an idle healthy sink refused a record";
  for (std::uint64_t t = 1; t < kRecords; ++t) publish(make_record(t));
  ASSERT_TRUE(sink_->flush(deadline()));
  // Completed when flush returned, not eventually.
  expect_all_delivered_once();
  expect_stats_match_receipts();
  EXPECT_GT(accepted_count(), 0u);

  // Destruction completes nothing a second time.
  sink_.reset();
  expect_all_delivered_once();
}

TEST_P(RecordSinkConformance, EachFlushCoversTheRecordsPublishedBeforeIt) {
  for (std::uint64_t round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    for (std::uint64_t i = 0; i < 5; ++i) publish(make_record(round * 5 + i));
    ASSERT_TRUE(sink_->flush(deadline()));
    expect_all_delivered_once();
  }
  expect_stats_match_receipts();
}

TEST_P(RecordSinkConformance, RecordsOutstandingAtDestructionCompleteInTheDestructor) {
  constexpr std::uint64_t kRecords = 1999;
  for (std::uint64_t t = 0; t < kRecords; ++t) publish(make_record(t));
  sink_.reset();  // no flush first
  // Healthy: delivered, or handed back as retriable by a sink that stops sooner.
  std::size_t permanent = 0;
  expect_completed_once(nullptr);
  for (std::uint64_t t = 0; t < kRecords; ++t)
    for (const auto& c : log_.completions(t))
      permanent += c.outcome == DeliveryOutcome::permanent ? 1 : 0;
  EXPECT_EQ(permanent, 0u);
  EXPECT_GT(accepted_count(), 0u);
}

TEST_P(RecordSinkConformance, ConcurrentPublishersOnFourThreads) {
  constexpr int kThreads = 4;
  constexpr std::uint64_t kPerThread = 500;
  std::atomic<bool> publishing{true};
  std::atomic<int> decreased{0};
  {
    std::latch start(kThreads + 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        for (std::uint64_t n = 0; n < kPerThread; ++n)
          publish(make_record(static_cast<std::uint64_t>(t) * kPerThread + n));
      });
    }
    // stats() races the publishers: its counters never go backwards.
    threads.emplace_back([&] {
      start.arrive_and_wait();
      DeliveryStats last;
      while (publishing.load()) {
        const DeliveryStats s = sink_->stats();
        if (s.published < last.published || s.delivered < last.delivered ||
            s.failed < last.failed || s.dropped < last.dropped)
          decreased.fetch_add(1);
        last = s;
        std::this_thread::yield();
      }
    });
    for (int t = 0; t < kThreads; ++t) threads[static_cast<std::size_t>(t)].join();
    publishing.store(false);
    threads.back().join();
  }
  EXPECT_EQ(decreased.load(), 0);
  ASSERT_TRUE(sink_->flush(deadline()));
  expect_all_delivered_once();
  expect_stats_match_receipts();
  EXPECT_GT(accepted_count(), 0u);
}

TEST_P(RecordSinkConformance, RecordsWithoutAListenerAreFine) {
  constexpr std::uint64_t kRecords = 100;
  for (std::uint64_t t = 0; t < kRecords; ++t) publish(make_record(t, t % 2 == 0));
  ASSERT_TRUE(sink_->flush(deadline()));
  expect_all_delivered_once();
  const DeliveryStats s = sink_->stats();
  EXPECT_EQ(s.published, accepted_count());
  EXPECT_EQ(s.delivered, s.published);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(log_.total(), accepted_tracked()) << "only tracked records are heard of";
  EXPECT_GT(accepted_tracked(), 0u);
}

TEST_P(RecordSinkConformance, IdsHeadersKeysAndOriginsMayBeAnything) {
  std::vector<Record> records;
  auto add = [&](std::string id, std::string key,
                 std::vector<std::pair<std::string, std::string>> headers, RecordOrigin origin) {
    Record r = make_record(records.size());
    r.id = std::move(id);
    r.key = std::move(key);
    r.headers = std::move(headers);
    r.origin = origin;
    records.push_back(std::move(r));
  };
  add("", "", {}, RecordOrigin::data);
  add("0123456789abcdef0123456789abcdef", "k", {}, RecordOrigin::data);
  add(std::string(200, 'i'), "", {{"a", ""}, {"b", std::string(1000, 'b')}}, RecordOrigin::data);
  add("id/with \"quotes\" and \\ and \xC3\xA9", "k\xC3\xA9", {{"h", "\xF0\x9F\x98\x80"}},
      RecordOrigin::error_report);
  add("same-id", "k", {{"crosscut-id", "someone else's"}}, RecordOrigin::data);
  add("same-id", "k", {{"dup", "1"}, {"dup", "2"}}, RecordOrigin::error_report);
  for (auto& r : records) ASSERT_TRUE(publish(std::move(r)));
  ASSERT_TRUE(sink_->flush(deadline()));
  expect_all_delivered_once();
  expect_stats_match_receipts();
}

TEST_P(RecordSinkConformance, StatsCountACompletionBeforeItsListenerHearsOfIt) {
  std::atomic<bool> checking{true};
  std::atomic<int> behind{0};
  log_.set_hook([&] {
    if (!checking.load()) return;
    // This completion, and every one recorded before it, is already counted.
    const std::uint64_t heard = log_.total();
    const DeliveryStats s = sink_->stats();
    if (s.delivered + s.failed < heard) behind.fetch_add(1);
  });
  for (std::uint64_t t = 0; t < 500; ++t) publish(make_record(t));
  ASSERT_TRUE(sink_->flush(deadline()));
  checking.store(false);
  EXPECT_EQ(behind.load(), 0);
  expect_all_delivered_once();
  expect_stats_match_receipts();
  sink_.reset();  // while the hook's state lives
}

}  // namespace crosscut::sdk::testing

// Instantiates the conformance suite for one sink. `prefix` names the instantiation (tests run
// as prefix/RecordSinkConformance.Name/prefix); the remaining argument is the factory, any
// expression convertible to crosscut::sdk::testing::RecordSinkFactory (commas are fine, e.g. a
// lambda's capture list). Use once per sink, at namespace scope, followed by a semicolon.
#define CROSSCUT_RECORD_SINK_CONFORMANCE(prefix, ...)                                \
  namespace crosscut_record_sink_conformance_##prefix {                              \
    using ::crosscut::sdk::testing::RecordSinkConformance;                           \
    INSTANTIATE_TEST_SUITE_P(                                                        \
        prefix, RecordSinkConformance,                                               \
        ::testing::Values(::crosscut::sdk::testing::RecordSinkFactory(__VA_ARGS__)), \
        [](const auto&) { return std::string(#prefix); });                           \
  }                                                                                  \
  static_assert(true, "require a semicolon after the macro")
