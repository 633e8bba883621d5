// Plugin `kafka`: record sink `kafka` (librdkafka producer) and input `kafka` (consumer group
// counting market-data messages).
#include "crosscut/sdk/sdk.hpp"
#include "kafka_input.hpp"
#include "kafka_input_options.hpp"
#include "kafka_record_sink.hpp"
#include "kafka_sink_options.hpp"

namespace {

using namespace crosscut::sdk;

PluginDescriptor describe() {
  return {"kafka",
          "1.0.0",
          {make_factory<crosscut::kafka::KafkaRecordSink>(
               ComponentKind::record_sink, "kafka",
               "Records produced to Kafka (idempotent, acks=all by default; delivery reports)",
               crosscut::kafka::kafka_sink_schema()),
           make_factory<crosscut::kafka::KafkaInput>(
               ComponentKind::input, "kafka",
               "Counts market-data messages of Kafka topics per symbol (consumer group, "
               "offsets committed after processing)",
               crosscut::kafka::kafka_input_schema())}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
