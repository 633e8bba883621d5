// The `kafka` record sink against the SDK's record sink conformance suite, producing to
// librdkafka's mock cluster (the real Kafka protocol on loopback).
#include <memory>
#include <string>

#include "crosscut/sdk/testing/record_sink_conformance.hpp"
#include "kafka/kafka_record_sink.hpp"
#include "kafka_test_support.hpp"
#include "support/kafka_mock_cluster.hpp"

namespace {

// One cluster and host for the whole program: they outlive every sink.
const crosscut::testing::KafkaMockCluster& suite_cluster() {
  static const crosscut::testing::KafkaMockCluster cluster;
  return cluster;
}
crosscut::testing::WaitableHost& suite_host() {
  static crosscut::testing::WaitableHost host;
  return host;
}

}  // namespace

CROSSCUT_RECORD_SINK_CONFORMANCE(Kafka, [] {
  return crosscut::testing::build_kafka<crosscut::kafka::KafkaRecordSink>(
      crosscut::sdk::ComponentKind::record_sink,
      "type: kafka\nbrokers: \"" + suite_cluster().bootstrap_servers() + "\"\n", suite_host());
});
