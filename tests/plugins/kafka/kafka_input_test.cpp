// The `kafka` input: a consumer group over the mock cluster, counting messages through the
// InputSink, reporting bad ones, committing offsets only for processed messages.
#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kafka/kafka_input.hpp"
#include "kafka_test_support.hpp"
#include "support/kafka_mock_cluster.hpp"

namespace {

using crosscut::kafka::KafkaInput;
using crosscut::sdk::ComponentKind;
using crosscut::sdk::InputPosition;
using crosscut::sdk::Target;
using crosscut::testing::build_kafka;
using crosscut::testing::KafkaMockCluster;
using crosscut::testing::produce_messages;
using crosscut::testing::WaitableHost;
using namespace std::chrono_literals;

struct Counted {
  Target target;
  std::string symbol;
  std::optional<std::int64_t> time_ms;
};

struct Bad {
  std::string input;
  std::uint64_t offset;
  std::string reason;
};

// Collects what the input hands over; `after_message` runs after each counted message.
class CollectingSink : public crosscut::sdk::InputSink {
 public:
  std::function<void(std::size_t counted)> after_message;

  void on_line(std::string_view, const InputPosition&) override { ADD_FAILURE() << "no lines"; }
  void on_message(const Target& target, std::string_view symbol,
                  std::optional<std::int64_t> event_time_ms) override {
    std::size_t n;
    {
      std::lock_guard lock(mu_);
      counted_.push_back({target, std::string(symbol), event_time_ms});
      n = counted_.size();
    }
    cv_.notify_all();
    if (after_message) after_message(n);
  }
  void on_bad_input(const InputPosition& where, std::string_view reason) override {
    {
      std::lock_guard lock(mu_);
      bad_.push_back({std::string(where.input), where.line, std::string(reason)});
    }
    cv_.notify_all();
  }
  bool wait_for(std::size_t counted, std::size_t bad, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout,
                        [&] { return counted_.size() >= counted && bad_.size() >= bad; });
  }
  std::vector<Counted> counted() const {
    std::lock_guard lock(mu_);
    return counted_;
  }
  std::vector<Bad> bad() const {
    std::lock_guard lock(mu_);
    return bad_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Counted> counted_;
  std::vector<Bad> bad_;
};

std::string input_yaml(const KafkaMockCluster& cluster, const std::string& group,
                       const std::string& topic) {
  // A short session: the mock coordinator waits for it before a rejoining group settles.
  return "type: kafka\nbrokers: \"" + cluster.bootstrap_servers() + "\"\ngroup_id: " + group +
         "\nauto_offset_reset: earliest\ncommit_interval: 50ms\ntopics:\n"
         "  - topic: " +
         topic +
         "\n"
         "    target: {exchange: upbit, region: korea, request_type: ticker}\n"
         "    symbol_field: code\n    time_field: timestamp\n"
         "    symbol_regex: \"^KRW-(.*)$\"\nproperties: {session.timeout.ms: \"6000\"}\n";
}

std::string ticker(const std::string& code, std::int64_t ts) {
  return R"({"type":"ticker","code":")" + code + R"(","timestamp":)" + std::to_string(ts) + "}";
}

TEST(KafkaInput, CountsSymbolsAndEventTimesAndReportsBadMessages) {
  KafkaMockCluster cluster;
  cluster.create_topic("upbit.ticker", 2);
  produce_messages(cluster.bootstrap_servers(), "upbit.ticker", 0,
                   {{"", ticker("KRW-BTC", 1737619200123)},
                    {"", "not json at all"},
                    {"", ticker("KRW-ETH", 1737619260000)},
                    {"", R"({"code":"KRW-XRP"})"}});
  produce_messages(cluster.bootstrap_servers(), "upbit.ticker", 1,
                   {{"", ticker("KRW-BTC", 1737619200999)}, {"", ticker("BTC-DOGE", 1)}});

  WaitableHost host;
  auto input = build_kafka<KafkaInput>(
      ComponentKind::input, input_yaml(cluster, "count-group", "upbit.ticker"), host, "inputs[0]");
  CollectingSink sink;
  std::jthread runner([&](std::stop_token stop) { input->run(sink, stop); });
  ASSERT_TRUE(sink.wait_for(4, 2, 60s));
  runner.request_stop();
  runner.join();

  auto counted = sink.counted();
  ASSERT_EQ(counted.size(), 4u);
  std::multiset<std::pair<std::string, std::int64_t>> got;
  for (const auto& c : counted) {
    EXPECT_EQ(c.target, (Target{"upbit", "korea", "ticker"}));
    ASSERT_TRUE(c.time_ms);
    got.emplace(c.symbol, *c.time_ms);
  }
  EXPECT_EQ(got, (std::multiset<std::pair<std::string, std::int64_t>>{{"BTC", 1737619200123},
                                                                      {"ETH", 1737619260000},
                                                                      {"BTC", 1737619200999},
                                                                      {"BTC-DOGE", 1}}));

  auto bad = sink.bad();
  ASSERT_EQ(bad.size(), 2u);
  std::sort(bad.begin(), bad.end(), [](const Bad& a, const Bad& b) { return a.offset < b.offset; });
  EXPECT_EQ(bad[0].input, "kafka:upbit.ticker/0");
  EXPECT_EQ(bad[0].offset, 1u);
  EXPECT_NE(bad[0].reason.find("not JSON"), std::string::npos) << bad[0].reason;
  EXPECT_EQ(bad[1].input, "kafka:upbit.ticker/0");
  EXPECT_EQ(bad[1].offset, 3u);
  EXPECT_NE(bad[1].reason.find("timestamp"), std::string::npos) << bad[1].reason;

  // Everything processed, bad messages included, was committed when the input stopped.
  EXPECT_EQ(crosscut::testing::committed_offset(cluster.bootstrap_servers(), "count-group",
                                                "upbit.ticker", 0),
            4);
  EXPECT_EQ(crosscut::testing::committed_offset(cluster.bootstrap_servers(), "count-group",
                                                "upbit.ticker", 1),
            2);
  EXPECT_TRUE(host.errors().empty());
}

TEST(KafkaInput, CommitsOnlyProcessedMessagesSoARestartResumesExactlyThere) {
  KafkaMockCluster cluster;
  cluster.create_topic("one.partition", 1);
  std::vector<std::pair<std::string, std::string>> messages;
  for (int i = 0; i < 10; ++i) messages.emplace_back("", ticker("KRW-S" + std::to_string(i), i));
  produce_messages(cluster.bootstrap_servers(), "one.partition", 0, messages);

  WaitableHost host;
  const std::string yaml = input_yaml(cluster, "resume-group", "one.partition");
  {
    auto input = build_kafka<KafkaInput>(ComponentKind::input, yaml, host, "inputs[0]");
    CollectingSink sink;
    std::stop_source stop;
    // Stop right after the fourth message; the rest may already be fetched, not processed.
    sink.after_message = [&](std::size_t n) {
      if (n == 4) stop.request_stop();
    };
    input->run(sink, stop.get_token());
    ASSERT_EQ(sink.counted().size(), 4u);
  }
  EXPECT_EQ(crosscut::testing::committed_offset(cluster.bootstrap_servers(), "resume-group",
                                                "one.partition", 0),
            4);

  auto input = build_kafka<KafkaInput>(ComponentKind::input, yaml, host, "inputs[0]");
  CollectingSink sink;
  std::jthread runner([&](std::stop_token stop) { input->run(sink, stop); });
  ASSERT_TRUE(sink.wait_for(6, 0, 60s));
  runner.request_stop();
  runner.join();
  const auto counted = sink.counted();
  ASSERT_EQ(counted.size(), 6u);
  for (std::size_t i = 0; i < counted.size(); ++i) {
    EXPECT_EQ(counted[i].symbol, "S" + std::to_string(i + 4));
    EXPECT_EQ(counted[i].time_ms, static_cast<std::int64_t>(i + 4));
  }
}

TEST(KafkaInput, ReturnsWhenStoppedWhileNothingArrives) {
  KafkaMockCluster cluster;
  cluster.create_topic("quiet", 1);
  WaitableHost host;
  auto input = build_kafka<KafkaInput>(
      ComponentKind::input, input_yaml(cluster, "quiet-group", "quiet"), host, "inputs[0]");
  CollectingSink sink;
  std::stop_source stop;
  stop.request_stop();
  input->run(sink, stop.get_token());  // returns instead of waiting for messages
  EXPECT_TRUE(sink.counted().empty());
  EXPECT_TRUE(sink.bad().empty());
}

}  // namespace
