// The `kafka` record sink against librdkafka's mock cluster (the real Kafka protocol on
// loopback); everything is verified by reading the topics back with a real consumer.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kafka/kafka_record_sink.hpp"
#include "kafka_test_support.hpp"
#include "support/kafka_mock_cluster.hpp"

namespace {

using crosscut::kafka::KafkaRecordSink;
using crosscut::sdk::ComponentKind;
using crosscut::sdk::Record;
using crosscut::sdk::RecordOrigin;
using crosscut::testing::build_kafka;
using crosscut::testing::consume_topic;
using crosscut::testing::KafkaMockCluster;
using crosscut::testing::WaitableHost;
using namespace std::chrono_literals;

std::unique_ptr<KafkaRecordSink> make_sink(const KafkaMockCluster& cluster, WaitableHost& host,
                                           const std::string& extra = "") {
  return build_kafka<KafkaRecordSink>(
      ComponentKind::record_sink,
      "type: kafka\nbrokers: \"" + cluster.bootstrap_servers() + "\"\n" + extra, host);
}

Record record(const std::string& topic, int id, std::string key = "") {
  Record r;
  r.topic = topic;
  r.key = std::move(key);
  r.payload = "{\"id\":" + std::to_string(id) + "}";
  return r;
}

std::chrono::steady_clock::time_point in(std::chrono::milliseconds d) {
  return std::chrono::steady_clock::now() + d;
}

// Payload ids read back from a topic, with how often each occurs.
std::map<std::string, int> id_counts(const std::vector<crosscut::testing::ConsumedMessage>& ms) {
  std::map<std::string, int> counts;
  for (const auto& m : ms) ++counts[m.value];
  return counts;
}

TEST(KafkaRecordSink, DeliversRecordsWithKeysAndHeaders) {
  KafkaMockCluster cluster;
  cluster.create_topic("t.delivery", 3);
  WaitableHost host;
  auto sink = make_sink(cluster, host);

  constexpr int kRecords = 100;
  for (int i = 0; i < kRecords; ++i) {
    Record r = record("t.delivery", i, i % 10 == 9 ? "" : "key-" + std::to_string(i % 4));
    r.headers = {{"source", "crosscut"}, {"seq", std::to_string(i)}};
    ASSERT_TRUE(sink->publish(std::move(r)));
  }
  ASSERT_TRUE(sink->flush(in(30s)));
  const auto stats = sink->stats();
  EXPECT_EQ(stats.published, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(stats.delivered, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_TRUE(host.errors().empty());

  const auto messages = consume_topic(cluster.bootstrap_servers(), "t.delivery", kRecords, 30s);
  ASSERT_EQ(messages.size(), static_cast<std::size_t>(kRecords));
  std::map<std::string, std::int32_t> partition_of_key;
  std::map<std::string, std::int64_t> last_seq_of_key;
  std::set<int> seen;
  for (const auto& m : messages) {
    ASSERT_EQ(m.headers.size(), 2u);
    EXPECT_EQ(m.headers[0], (std::pair<std::string, std::string>{"source", "crosscut"}));
    EXPECT_EQ(m.headers[1].first, "seq");
    const int seq = std::stoi(m.headers[1].second);
    seen.insert(seq);
    EXPECT_EQ(m.value, "{\"id\":" + std::to_string(seq) + "}");
    if (seq % 10 == 9) {
      EXPECT_FALSE(m.key.has_value()) << "an empty key is sent as no key";
      continue;
    }
    ASSERT_TRUE(m.key.has_value());
    EXPECT_EQ(*m.key, "key-" + std::to_string(seq % 4));
    // One key stays in one partition, in publish order.
    auto [it, fresh] = partition_of_key.emplace(*m.key, m.partition);
    EXPECT_EQ(it->second, m.partition) << *m.key;
    if (!fresh) {
      EXPECT_GT(seq, last_seq_of_key[*m.key]);
    }
    last_seq_of_key[*m.key] = seq;
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kRecords));
}

TEST(KafkaRecordSink, AllBrokersDownMidStreamLosesAndDuplicatesNothing) {
  KafkaMockCluster cluster;
  cluster.create_topic("t.outage", 4, 3);
  WaitableHost host;
  // Reconnect soon after the brokers return (the default backoff grows to 10 s).
  auto sink = make_sink(cluster, host, "properties: {reconnect.backoff.max.ms: \"500\"}\n");

  int next_id = 0;
  for (; next_id < 500; ++next_id) ASSERT_TRUE(sink->publish(record("t.outage", next_id)));
  ASSERT_TRUE(sink->flush(in(30s)));

  // Every broker goes down for about three seconds while records keep coming.
  cluster.set_down(-1);
  const auto outage_end = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < outage_end) {
    ASSERT_TRUE(sink->publish(record("t.outage", next_id++)));
    std::this_thread::sleep_for(2ms);  // pacing the publisher, not synchronisation
  }
  ASSERT_TRUE(host.wait_for_errors(1, 30s)) << "the outage was never reported";
  cluster.set_up(-1);

  const int after_outage = next_id + 500;
  for (; next_id < after_outage; ++next_id) ASSERT_TRUE(sink->publish(record("t.outage", next_id)));
  ASSERT_TRUE(sink->flush(in(60s))) << sink->outstanding() << " records outstanding";
  EXPECT_EQ(sink->stats().delivered, static_cast<std::uint64_t>(next_id));
  EXPECT_EQ(sink->stats().failed, 0u);

  const auto messages = consume_topic(cluster.bootstrap_servers(), "t.outage", next_id, 60s);
  const auto counts = id_counts(messages);
  EXPECT_EQ(counts.size(), static_cast<std::size_t>(next_id)) << "records lost";
  EXPECT_EQ(messages.size(), static_cast<std::size_t>(next_id)) << "records duplicated";
  for (int id = 0; id < next_id; ++id) {
    auto it = counts.find("{\"id\":" + std::to_string(id) + "}");
    ASSERT_NE(it, counts.end()) << "record " << id << " lost";
    EXPECT_EQ(it->second, 1) << "record " << id << " duplicated";
  }
  const auto down = host.errors_of_type("KafkaBrokersDown");
  ASSERT_EQ(down.size(), 1u) << "an outage is reported once";
  EXPECT_EQ(down[0].kind, "kafka_producer");
}

TEST(KafkaRecordSink, RetriableProduceErrorsAreRetriedAndDelivered) {
  KafkaMockCluster cluster;
  cluster.create_topic("t.retry", 1);
  WaitableHost host;
  auto sink = make_sink(cluster, host);
  ASSERT_TRUE(sink->publish(record("t.retry", 0)));
  ASSERT_TRUE(sink->flush(in(30s)));  // connected, metadata known

  cluster.push_request_errors(
      KafkaMockCluster::kProduceApi,
      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT});
  ASSERT_TRUE(sink->publish(record("t.retry", 1)));
  ASSERT_TRUE(sink->flush(in(30s)));
  EXPECT_EQ(sink->stats().delivered, 2u);
  EXPECT_EQ(sink->stats().failed, 0u);
  EXPECT_TRUE(host.errors().empty());
  const auto counts = id_counts(consume_topic(cluster.bootstrap_servers(), "t.retry", 2, 30s));
  EXPECT_EQ(counts, (std::map<std::string, int>{{"{\"id\":0}", 1}, {"{\"id\":1}", 1}}));
}

TEST(KafkaRecordSink, PermanentDeliveryFailureIsAKafkaProducerErrorExceptForErrorReports) {
  KafkaMockCluster cluster;
  cluster.create_topic("t.rejected", 1);
  WaitableHost host;
  auto sink = make_sink(cluster, host);
  ASSERT_TRUE(sink->publish(record("t.rejected", 0)));
  ASSERT_TRUE(sink->flush(in(30s)));

  cluster.push_request_errors(KafkaMockCluster::kProduceApi,
                              {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE});
  ASSERT_TRUE(sink->publish(record("t.rejected", 1)));
  ASSERT_TRUE(sink->flush(in(30s)));
  EXPECT_EQ(sink->stats().failed, 1u);
  auto failures = host.errors_of_type("KafkaDeliveryError");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].kind, "kafka_producer");
  const auto* topic = failures[0].context.find("topic");
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(topic->as_string(), "t.rejected");
  EXPECT_EQ(failures[0].context.find("error")->as_string(), "MSG_SIZE_TOO_LARGE");

  // The same failure of a record that is itself an error report: logged and counted only.
  cluster.push_request_errors(KafkaMockCluster::kProduceApi,
                              {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE});
  Record report = record("t.rejected", 2);
  report.origin = RecordOrigin::error_report;
  ASSERT_TRUE(sink->publish(std::move(report)));
  ASSERT_TRUE(sink->flush(in(30s)));
  EXPECT_EQ(sink->stats().failed, 2u);
  EXPECT_EQ(host.errors().size(), 1u) << "an undelivered error report was re-reported";
  EXPECT_EQ(host.metric("kafka_sink.undelivered_error_reports"), 1);
  bool logged = false;
  for (const auto& l : host.logs("kafka_sink"))
    logged |= l.message.find("could not deliver error reports") != std::string::npos;
  EXPECT_TRUE(logged);

  // The producer keeps working afterwards.
  ASSERT_TRUE(sink->publish(record("t.rejected", 3)));
  ASSERT_TRUE(sink->flush(in(30s)));
  const auto counts = id_counts(consume_topic(cluster.bootstrap_servers(), "t.rejected", 2, 30s));
  EXPECT_EQ(counts, (std::map<std::string, int>{{"{\"id\":0}", 1}, {"{\"id\":3}", 1}}));
}

TEST(KafkaRecordSink, StartsWithBrokersUnreachableReportsOnceAndDeliversWhenTheyCome) {
  KafkaMockCluster cluster;
  cluster.create_topic("t.late", 2);
  cluster.set_down(-1);
  WaitableHost host;
  // Starts although nothing answers.
  auto sink = make_sink(cluster, host, "properties: {reconnect.backoff.max.ms: \"500\"}\n");

  for (int i = 0; i < 50; ++i) ASSERT_TRUE(sink->publish(record("t.late", i)));
  ASSERT_TRUE(host.wait_for_errors(1, 30s));
  for (int i = 50; i < 100; ++i) ASSERT_TRUE(sink->publish(record("t.late", i)));
  EXPECT_EQ(sink->stats().delivered, 0u);

  cluster.set_up(-1);
  ASSERT_TRUE(sink->flush(in(60s))) << sink->outstanding() << " records outstanding";
  EXPECT_EQ(sink->stats().delivered, 100u);
  const auto down = host.errors_of_type("KafkaBrokersDown");
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].kind, "kafka_producer");
  EXPECT_EQ(host.errors().size(), 1u);
  const auto counts = id_counts(consume_topic(cluster.bootstrap_servers(), "t.late", 100, 30s));
  EXPECT_EQ(counts.size(), 100u);
}

TEST(KafkaRecordSink, OversizeRecordIsRefusedAndReportedWhileTheRestContinues) {
  KafkaMockCluster cluster;
  cluster.create_topic("t.size", 1);
  WaitableHost host;
  auto sink = make_sink(cluster, host);
  Record big = record("t.size", 0);
  big.payload = "\"" + std::string(2'000'000, 'x') + "\"";
  EXPECT_FALSE(sink->publish(std::move(big)));
  ASSERT_TRUE(sink->publish(record("t.size", 1)));
  ASSERT_TRUE(sink->flush(in(30s)));
  const auto stats = sink->stats();
  EXPECT_EQ(stats.dropped, 1u);
  EXPECT_EQ(stats.delivered, 1u);
  const auto refused = host.errors_of_type("KafkaProduceRefused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].kind, "kafka_producer");
  EXPECT_EQ(refused[0].context.find("error")->as_string(), "MSG_SIZE_TOO_LARGE");
}

TEST(KafkaRecordSink, FullQueueDropsOrBlocksThenDropsAndCounts) {
  KafkaMockCluster cluster;
  cluster.set_down(-1);  // nothing leaves the local queue
  for (const std::string policy : {"drop", "block"}) {
    WaitableHost host;
    auto sink = make_sink(cluster, host,
                          "queue_max_messages: 10\non_full: " + policy +
                              "\nblock_timeout: 20ms\nshutdown_timeout: 100ms\n");
    int accepted = 0;
    for (int i = 0; i < 25; ++i) accepted += sink->publish(record("t.full", i)) ? 1 : 0;
    EXPECT_EQ(accepted, 10) << policy;
    EXPECT_EQ(sink->stats().published, 10u) << policy;
    EXPECT_EQ(sink->stats().dropped, 15u) << policy;
    EXPECT_TRUE(host.errors_of_type("KafkaProduceRefused").empty()) << policy;
    EXPECT_FALSE(sink->flush(in(50ms))) << policy;
  }
}

TEST(KafkaRecordSink, UndeliveredRecordsAtShutdownAreDroppedAfterTheTimeout) {
  KafkaMockCluster cluster;
  cluster.set_down(-1);
  WaitableHost host;
  auto sink = make_sink(cluster, host, "shutdown_timeout: 200ms\n");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sink->publish(record("t.shutdown", i)));
  sink.reset();  // must not hang on the unreachable brokers
  bool logged = false;
  for (const auto& l : host.logs("kafka_sink"))
    logged |= l.message.find("shutting down with records not delivered") != std::string::npos;
  EXPECT_TRUE(logged);
  EXPECT_TRUE(host.errors_of_type("KafkaDeliveryError").empty());
}

}  // namespace
