// Plugin `kafka`: record sink `kafka` (librdkafka producer) and input `kafka` (consumer group
// counting market-data messages).
#include "crosscut/sdk/sdk.hpp"
#include "kafka_input.hpp"
#include "kafka_record_sink.hpp"

namespace {

using namespace crosscut::sdk;

PluginDescriptor describe() {
  return {"kafka",
          "1.0.0",
          {make_factory<crosscut::kafka::KafkaRecordSink>(
               "kafka",
               "Records produced to Kafka (idempotent, acks=all by default; delivery reports)"),
           make_factory<crosscut::kafka::KafkaInput>(
               "kafka",
               "Counts market-data messages of Kafka topics per symbol (consumer group, "
               "offsets committed after processing)")}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
