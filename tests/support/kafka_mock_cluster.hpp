// librdkafka's mock Kafka cluster on loopback (it speaks the real Kafka protocol), started for
// one test, plus a real librdkafka consumer that reads topics back for verification.
#pragma once

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h needs rdkafka.h first.
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace crosscut::testing {

class KafkaMockCluster {
 public:
  // Starts `brokers` brokers (ids 1..brokers) on random loopback ports.
  explicit KafkaMockCluster(int brokers = 3);
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;
  ~KafkaMockCluster();

  // "127.0.0.1:port,..." for bootstrap.servers.
  const std::string& bootstrap_servers() const { return bootstrap_; }
  int broker_count() const { return brokers_; }

  // Creates a topic (topics otherwise auto-create with 4 partitions). Throws on failure.
  void create_topic(const std::string& topic, int partitions, int replication_factor = 1);

  // Closes (down) or reopens (up) the listeners of one broker, or of all with -1.
  void set_down(int broker_id = -1);
  void set_up(int broker_id = -1);

  // Kafka protocol API keys (librdkafka does not export its own names for them).
  static constexpr int16_t kProduceApi = 0;

  // The next requests of the given API (e.g. kProduceApi) fail with these errors,
  // one each, in order.
  void push_request_errors(int16_t api_key, const std::vector<rd_kafka_resp_err_t>& errors);

  rd_kafka_mock_cluster_t* handle() const { return cluster_; }

 private:
  int brokers_;
  rd_kafka_t* rk_ = nullptr;  // owns the cluster's bookkeeping
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
};

struct ConsumedMessage {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;  // nullopt: the message had no key
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Reads `topic` from the beginning of every partition with a real librdkafka consumer (no
// group offsets involved) until at least `min_messages` were read AND every partition was
// read to its end, or `timeout` passes. So the result holds everything the topic had at that
// point, duplicates included. Throws on a consumer error.
std::vector<ConsumedMessage> consume_topic(const std::string& bootstrap_servers,
                                           const std::string& topic, std::size_t min_messages,
                                           std::chrono::milliseconds timeout);

// The committed offset of `group` for one partition (-1001: none), read through a real
// consumer.
int64_t committed_offset(const std::string& bootstrap_servers, const std::string& group,
                         const std::string& topic, int32_t partition);

// Produces (key, value) messages to one partition with a plain librdkafka producer and waits
// until all are acknowledged. Throws when one fails.
void produce_messages(const std::string& bootstrap_servers, const std::string& topic,
                      int32_t partition,
                      const std::vector<std::pair<std::string, std::string>>& messages);

}  // namespace crosscut::testing
