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
using crosscut::sdk::DeliveryOutcome;
using crosscut::sdk::Record;
using crosscut::sdk::RecordOrigin;
using crosscut::testing::build_kafka;
using crosscut::testing::consume_topic;
using crosscut::testing::KafkaMockCluster;
using crosscut::testing::Receipts;
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

// record() whose receipt goes to `receipts` under ticket `id`.
Record tracked(Receipts& receipts, const std::string& topic, int id) {
  Record r = record(topic, id);
  r.receipt = receipts.receipt(static_cast<std::uint64_t>(id));
  return r;
}

bool logged(const WaitableHost& host, const std::string& text) {
  for (const auto& l : host.logs("kafka_sink"))
    if (l.message.find(text) != std::string::npos) return true;
  return false;
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
  Receipts receipts;
  for (int i = 0; i < kRecords; ++i) {
    Record r = tracked(receipts, "t.delivery", i);
    r.key = i % 10 == 9 ? "" : "key-" + std::to_string(i % 4);
    r.headers = {{"source", "crosscut"}, {"seq", std::to_string(i)}};
    ASSERT_TRUE(sink->publish(std::move(r)));
  }
  ASSERT_TRUE(sink->flush(in(30s)));
  const auto stats = sink->stats();
  EXPECT_EQ(stats.published, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(stats.delivered, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_TRUE(host.errors().empty());
  for (int i = 0; i < kRecords; ++i) {
    const auto c = receipts.only(static_cast<std::uint64_t>(i));
    EXPECT_EQ(c.outcome, DeliveryOutcome::delivered) << i;
    EXPECT_EQ(c.kind, "");
  }

  const auto messages = consume_topic(cluster.bootstrap_servers(), "t.delivery", kRecords, 30s);
  ASSERT_EQ(messages.size(), static_cast<std::size_t>(kRecords));
  std::map<std::string, std::int32_t> partition_of_key;
  std::map<std::string, std::int64_t> last_seq_of_key;
  std::set<int> seen;
  for (const auto& m : messages) {
    ASSERT_EQ(m.headers.size(), 2u) << "no crosscut-id header without an id";
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

TEST(KafkaRecordSink, TheRecordIdTravelsAsTheCrosscutIdHeader) {
  KafkaMockCluster cluster;
  cluster.create_topic("t.id", 1);
  WaitableHost host;
  auto sink = make_sink(cluster, host);
  Record with_headers = record("t.id", 0);
  with_headers.id = "7f3a-0001";
  with_headers.headers = {{"source", "crosscut"}};
  ASSERT_TRUE(sink->publish(std::move(with_headers)));
  Record id_only = record("t.id", 1);
  id_only.id = "7f3a-0002";
  ASSERT_TRUE(sink->publish(std::move(id_only)));
  ASSERT_TRUE(sink->publish(record("t.id", 2)));
  ASSERT_TRUE(sink->flush(in(30s)));

  const auto messages = consume_topic(cluster.bootstrap_servers(), "t.id", 3, 30s);
  ASSERT_EQ(messages.size(), 3u);
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> headers_of;
  for (const auto& m : messages) headers_of[m.value] = m.headers;
  using Headers = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(headers_of["{\"id\":0}"],
            (Headers{{"source", "crosscut"}, {"crosscut-id", "7f3a-0001"}}));
  EXPECT_EQ(headers_of["{\"id\":1}"], (Headers{{"crosscut-id", "7f3a-0002"}}));
  EXPECT_EQ(headers_of["{\"id\":2}"], Headers{}) << "no id, no header";
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

  Receipts receipts;
  cluster.push_request_errors(KafkaMockCluster::kProduceApi,
                              {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE});
  ASSERT_TRUE(sink->publish(tracked(receipts, "t.rejected", 1)));
  ASSERT_TRUE(sink->flush(in(30s)));
  EXPECT_EQ(sink->stats().failed, 1u);
  const auto c1 = receipts.only(1);
  EXPECT_EQ(c1.outcome, DeliveryOutcome::permanent);
  EXPECT_EQ(c1.kind, "msg_size_too_large");
  EXPECT_EQ(c1.reason, rd_kafka_err2str(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE));
  auto failures = host.errors_of_type("KafkaDeliveryError");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].kind, "kafka_producer");
  const auto* topic = failures[0].context.find("topic");
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(topic->as_string(), "t.rejected");
  EXPECT_EQ(failures[0].context.find("error")->as_string(), "MSG_SIZE_TOO_LARGE");
  EXPECT_EQ(host.metric("kafka_sink.permanent_failures"), 1);

  // The same failure of a record that is itself an error report: logged and counted only.
  cluster.push_request_errors(KafkaMockCluster::kProduceApi,
                              {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE});
  Record report = tracked(receipts, "t.rejected", 2);
  report.origin = RecordOrigin::error_report;
  ASSERT_TRUE(sink->publish(std::move(report)));
  ASSERT_TRUE(sink->flush(in(30s)));
  EXPECT_EQ(sink->stats().failed, 2u);
  EXPECT_EQ(receipts.only(2).outcome, DeliveryOutcome::permanent);
  EXPECT_EQ(host.errors().size(), 1u) << "an undelivered error report was re-reported";
  EXPECT_EQ(host.metric("kafka_sink.undelivered_error_reports"), 1);
  EXPECT_TRUE(logged(host, "could not deliver error reports"));

  // A second data record failing the same way: counted and logged, not reported again.
  cluster.push_request_errors(KafkaMockCluster::kProduceApi,
                              {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE});
  ASSERT_TRUE(sink->publish(tracked(receipts, "t.rejected", 3)));
  ASSERT_TRUE(sink->flush(in(30s)));
  EXPECT_EQ(receipts.only(3).outcome, DeliveryOutcome::permanent);
  EXPECT_EQ(host.errors().size(), 1u) << "a kind of failure is reported once";
  EXPECT_EQ(host.metric("kafka_sink.permanent_failures"), 2);
  EXPECT_TRUE(logged(host, "each kind reported once"));

  // The producer keeps working afterwards.
  ASSERT_TRUE(sink->publish(tracked(receipts, "t.rejected", 4)));
  ASSERT_TRUE(sink->flush(in(30s)));
  EXPECT_EQ(receipts.only(4).outcome, DeliveryOutcome::delivered);
  const auto counts = id_counts(consume_topic(cluster.bootstrap_servers(), "t.rejected", 2, 30s));
  EXPECT_EQ(counts, (std::map<std::string, int>{{"{\"id\":0}", 1}, {"{\"id\":4}", 1}}));
}

TEST(KafkaRecordSink, BrokerErrorsAreClassifiedOnceLibrdkafkaGivesUp) {
  KafkaMockCluster cluster;
  cluster.create_topic("t.classify", 1);
  WaitableHost host;
  // No librdkafka retries: each pushed error is the record's final report.
  auto sink = make_sink(cluster, host,
                        "idempotence: false\nacks: \"1\"\n"
                        "properties: {message.send.max.retries: \"0\"}\n");
  ASSERT_TRUE(sink->publish(record("t.classify", 0)));
  ASSERT_TRUE(sink->flush(in(30s)));

  struct Case {
    rd_kafka_resp_err_t error;
    DeliveryOutcome outcome;
    std::string kind;
  };
  const std::vector<Case> cases{
      {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, DeliveryOutcome::retriable, "not_enough_replicas"},
      {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, DeliveryOutcome::retriable, "request_timed_out"},
      {RD_KAFKA_RESP_ERR_INVALID_RECORD, DeliveryOutcome::permanent, "invalid_record"},
      {RD_KAFKA_RESP_ERR_INVALID_RECORD, DeliveryOutcome::permanent, "invalid_record"},
      // Last: librdkafka fails the topic's next records with it too, until metadata changes.
      {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, DeliveryOutcome::permanent,
       "topic_authorization_failed"},
  };
  Receipts receipts;
  int id = 1;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.kind);
    cluster.push_request_errors(KafkaMockCluster::kProduceApi, {c.error});
    ASSERT_TRUE(sink->publish(tracked(receipts, "t.classify", id)));
    ASSERT_TRUE(sink->flush(in(30s)));
    const auto done = receipts.only(static_cast<std::uint64_t>(id));
    EXPECT_EQ(done.outcome, c.outcome);
    EXPECT_EQ(done.kind, c.kind);
    EXPECT_EQ(done.reason, rd_kafka_err2str(c.error));
    ++id;
  }
  // The permanent kinds once each; retriable ones never.
  const auto reported = host.errors_of_type("KafkaDeliveryError");
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[0].context.find("kind")->as_string(), "invalid_record");
  EXPECT_EQ(reported[1].context.find("kind")->as_string(), "topic_authorization_failed");
  EXPECT_EQ(host.errors().size(), 2u);
  EXPECT_EQ(host.metric("kafka_sink.permanent_failures"), 3);
  EXPECT_EQ(sink->stats().failed, cases.size());
}

TEST(KafkaRecordSink, AMessageTimeoutWithTheLeaderDownIsRetriableAndNoError) {
  KafkaMockCluster cluster;
  cluster.create_topic("t.timeout", 1);
  ASSERT_EQ(rd_kafka_mock_partition_set_leader(cluster.handle(), "t.timeout", 0, 2),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  cluster.set_down(2);  // the other brokers answer: not every broker is down
  WaitableHost host;
  auto sink = make_sink(cluster, host, "message_timeout: 1s\n");
  Receipts receipts;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sink->publish(tracked(receipts, "t.timeout", i)));
  ASSERT_TRUE(sink->flush(in(30s)));
  for (int i = 0; i < 3; ++i) {
    const auto c = receipts.only(static_cast<std::uint64_t>(i));
    EXPECT_EQ(c.outcome, DeliveryOutcome::retriable);
    EXPECT_EQ(c.kind, "msg_timed_out");
    EXPECT_EQ(c.reason, rd_kafka_err2str(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT));
  }
  EXPECT_EQ(sink->stats().failed, 3u);
  EXPECT_EQ(sink->stats().delivered, 0u);
  EXPECT_TRUE(host.errors().empty()) << host.errors()[0].info.type;
  EXPECT_EQ(host.metric("kafka_sink.permanent_failures"), 0);
}

TEST(KafkaRecordSink, AMessageTimeoutWithEveryBrokerDownIsRetriableAndOnlyTheOutageReported) {
  KafkaMockCluster cluster;
  cluster.create_topic("t.down", 1);
  cluster.set_down(-1);
  WaitableHost host;
  auto sink = make_sink(cluster, host, "message_timeout: 1s\n");
  Receipts receipts;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sink->publish(tracked(receipts, "t.down", i)));
  ASSERT_TRUE(sink->flush(in(30s)));
  for (int i = 0; i < 3; ++i) {
    const auto c = receipts.only(static_cast<std::uint64_t>(i));
    EXPECT_EQ(c.outcome, DeliveryOutcome::retriable);
    EXPECT_EQ(c.kind, "msg_timed_out");
  }
  EXPECT_TRUE(host.errors_of_type("KafkaDeliveryError").empty());
  for (const auto& e : host.errors()) EXPECT_EQ(e.info.type, "KafkaBrokersDown");
  EXPECT_LE(host.errors().size(), 1u);
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

TEST(KafkaRecordSink, OversizeRecordsFailPermanentlyAtOnceReportedOnceWhileTheRestContinue) {
  KafkaMockCluster cluster;
  cluster.create_topic("t.size", 1);
  WaitableHost host;
  auto sink = make_sink(cluster, host);
  Receipts receipts;
  for (int i : {0, 2}) {
    Record big = tracked(receipts, "t.size", i);
    big.payload = "\"" + std::string(2'000'000, 'x') + "\"";
    // Accepted and completed at once: the producer learns why.
    EXPECT_TRUE(sink->publish(std::move(big)));
    const auto c = receipts.only(static_cast<std::uint64_t>(i));
    EXPECT_EQ(c.outcome, DeliveryOutcome::permanent);
    EXPECT_EQ(c.kind, "msg_size_too_large");
    EXPECT_FALSE(c.reason.empty());
  }
  ASSERT_TRUE(sink->publish(tracked(receipts, "t.size", 1)));
  ASSERT_TRUE(sink->flush(in(30s)));
  EXPECT_EQ(receipts.only(1).outcome, DeliveryOutcome::delivered);
  const auto stats = sink->stats();
  EXPECT_EQ(stats.published, 3u);
  EXPECT_EQ(stats.failed, 2u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.delivered, 1u);
  const auto refused = host.errors_of_type("KafkaProduceRefused");
  ASSERT_EQ(refused.size(), 1u) << "reported once for two such records";
  EXPECT_EQ(refused[0].kind, "kafka_producer");
  EXPECT_EQ(refused[0].context.find("error")->as_string(), "MSG_SIZE_TOO_LARGE");
  EXPECT_EQ(refused[0].context.find("kind")->as_string(), "msg_size_too_large");
  EXPECT_EQ(host.errors().size(), 1u);
  EXPECT_EQ(host.metric("kafka_sink.permanent_failures"), 2);
  EXPECT_TRUE(logged(host, "each kind reported once"));
}

TEST(KafkaRecordSink, AnOversizeErrorReportIsLoggedAndCountedNeverReported) {
  KafkaMockCluster cluster;
  WaitableHost host;
  auto sink = make_sink(cluster, host);
  Receipts receipts;
  Record big = tracked(receipts, "t.size", 0);
  big.origin = RecordOrigin::error_report;
  big.payload = "\"" + std::string(2'000'000, 'x') + "\"";
  EXPECT_TRUE(sink->publish(std::move(big)));
  EXPECT_EQ(receipts.only(0).outcome, DeliveryOutcome::permanent);
  EXPECT_TRUE(host.errors().empty());
  EXPECT_EQ(host.metric("kafka_sink.undelivered_error_reports"), 1);
  EXPECT_TRUE(logged(host, "could not deliver error reports"));
}

TEST(KafkaRecordSink, FullQueueDropsOrBlocksThenDropsAndCounts) {
  KafkaMockCluster cluster;
  cluster.set_down(-1);  // nothing leaves the local queue
  for (const std::string policy : {"drop", "block"}) {
    WaitableHost host;
    auto sink = make_sink(cluster, host,
                          "queue_max_messages: 10\non_full: " + policy +
                              "\nblock_timeout: 20ms\nshutdown_timeout: 100ms\n");
    Receipts receipts;
    std::vector<int> refused;
    int accepted = 0;
    for (int i = 0; i < 25; ++i) {
      if (sink->publish(tracked(receipts, "t.full", i)))
        ++accepted;
      else
        refused.push_back(i);
    }
    EXPECT_EQ(accepted, 10) << policy;
    EXPECT_EQ(sink->stats().published, 10u) << policy;
    EXPECT_EQ(sink->stats().dropped, 15u) << policy;
    EXPECT_TRUE(host.errors_of_type("KafkaProduceRefused").empty()) << policy;
    EXPECT_FALSE(sink->flush(in(50ms))) << policy;
    EXPECT_EQ(receipts.completed(), 0u) << policy;
    sink.reset();
    // The accepted ones complete (retriable) while the sink is destroyed; refusals never.
    EXPECT_EQ(receipts.completed(), 10u) << policy;
    for (int i : refused) EXPECT_TRUE(receipts.of(static_cast<std::uint64_t>(i)).empty()) << i;
  }
}

TEST(KafkaRecordSink, UndeliveredRecordsAtShutdownCompleteAsRetriableAfterTheTimeout) {
  KafkaMockCluster cluster;
  cluster.set_down(-1);
  WaitableHost host;
  auto sink = make_sink(cluster, host, "shutdown_timeout: 200ms\n");
  Receipts receipts;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sink->publish(tracked(receipts, "t.shutdown", i)));
  sink.reset();  // must not hang on the unreachable brokers
  EXPECT_TRUE(logged(host, "shutting down with records not delivered"));
  EXPECT_TRUE(host.errors_of_type("KafkaDeliveryError").empty());
  for (int i = 0; i < 5; ++i) {
    const auto c = receipts.only(static_cast<std::uint64_t>(i));
    EXPECT_EQ(c.outcome, DeliveryOutcome::retriable) << i;
    EXPECT_TRUE(c.kind == "purge_queue" || c.kind == "purge_inflight" || c.kind == "destroy")
        << c.kind;
  }
}

}  // namespace
