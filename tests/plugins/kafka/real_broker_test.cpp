// Opt-in: the kafka sink and input against a real Kafka broker, when
// CROSSCUT_TEST_KAFKA_BOOTSTRAP=host:port names one (the topic is auto-created or must exist).
// Without it the test is reported as skipped, never as passed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>

#include "kafka/kafka_input.hpp"
#include "kafka/kafka_record_sink.hpp"
#include "kafka_test_support.hpp"
#include "support/kafka_mock_cluster.hpp"

namespace {

using crosscut::sdk::ComponentKind;
using namespace std::chrono_literals;

TEST(KafkaRealBroker, SinkDeliversAndConsumerReadsBack) {
  const char* bootstrap = std::getenv("CROSSCUT_TEST_KAFKA_BOOTSTRAP");
  if (bootstrap == nullptr || *bootstrap == '\0')
    GTEST_SKIP() << "set CROSSCUT_TEST_KAFKA_BOOTSTRAP=host:port to run against a real broker";

  const std::string topic =
      "crosscut.test." +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  crosscut::testing::WaitableHost host;
  auto sink = crosscut::testing::build_kafka<crosscut::kafka::KafkaRecordSink>(
      ComponentKind::record_sink,
      std::string("type: kafka\nbrokers: \"") + bootstrap + "\"\ncompression: lz4\n", host);
  constexpr int kRecords = 200;
  for (int i = 0; i < kRecords; ++i) {
    crosscut::sdk::Record r;
    r.topic = topic;
    r.key = "k" + std::to_string(i % 7);
    r.payload = "{\"id\":" + std::to_string(i) + "}";
    r.headers = {{"seq", std::to_string(i)}};
    ASSERT_TRUE(sink->publish(std::move(r)));
  }
  ASSERT_TRUE(sink->flush(std::chrono::steady_clock::now() + 60s));
  EXPECT_EQ(sink->stats().delivered, static_cast<std::uint64_t>(kRecords));
  EXPECT_TRUE(host.errors().empty());

  const auto messages = crosscut::testing::consume_topic(bootstrap, topic, kRecords, 60s);
  std::set<std::string> ids;
  for (const auto& m : messages) ids.insert(m.value);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kRecords));
  EXPECT_EQ(messages.size(), static_cast<std::size_t>(kRecords));
}

}  // namespace
