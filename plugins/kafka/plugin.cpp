// Plugin `kafka`: record sink `kafka` (librdkafka producer) and input `kafka` (consumer group
// counting market-data messages).
#include <dlfcn.h>
#include <librdkafka/rdkafka.h>

#include "crosscut/sdk/sdk.hpp"
#include "kafka_input.hpp"
#include "kafka_record_sink.hpp"

namespace {

using namespace crosscut::sdk;

// librdkafka keeps process-wide state (its one-time global initialisation) that it never frees;
// unloading it together with this plugin would strand that memory (and any later load would
// initialise it again). So librdkafka stays mapped for the life of the process.
[[maybe_unused]] const bool kLibrdkafkaPinned = [] {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&rd_kafka_version), &info) == 0 || info.dli_fname == nullptr)
    return false;
  return dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) != nullptr;
}();

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
