// Kafka record sink throughput (200-byte records, delivered and acknowledged) against a raw
// librdkafka producer loop (rd_kafka_producev + rd_kafka_poll) with the same settings, both
// producing to librdkafka's mock cluster on loopback in the same run.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "config/option_validator.hpp"
#include "config/yaml_tree_loader.hpp"
#include "kafka/kafka_record_sink.hpp"
#include "peer_ratio_reporter.hpp"
#include "support/kafka_mock_cluster.hpp"
#include "support/test_host.hpp"

extern "C" const crosscut_plugin_info* crosscut_plugin_entry();

namespace {

using namespace std::chrono_literals;

constexpr int kBatch = 20'000;  // records per iteration, each iteration ends with a flush
const std::string kTopic = "bench.records";
const std::string kPayload = [] {
  std::string p = "{\"exchange\":\"upbit\",\"symbol\":\"BTC\",\"pad\":\"";
  p.resize(198, 'x');
  return p + "\"}";
}();

crosscut::testing::KafkaMockCluster& cluster() {
  static crosscut::testing::KafkaMockCluster c(3);
  return c;
}

// The settings both producers use (the sink's defaults, written out for the raw one).
const char* const kSettings[][2] = {{"enable.idempotence", "true"},
                                    {"acks", "-1"},
                                    {"linger.ms", "5"},
                                    {"batch.size", "1000000"},
                                    {"queue.buffering.max.messages", "100000"},
                                    {"log_level", "3"}};

std::unique_ptr<crosscut::kafka::KafkaRecordSink> make_sink(crosscut::sdk::HostContext& host) {
  const std::string yaml = "type: kafka\nbrokers: \"" + cluster().bootstrap_servers() + "\"\n";
  auto tree = crosscut::config::parse_yaml_tree(
      yaml, "bench.yaml", [](const std::string&) { return std::optional<std::string>{}; });
  const auto& d =
      *static_cast<const crosscut::sdk::PluginDescriptor*>(crosscut_plugin_entry()->descriptor);
  for (const auto& f : d.components) {
    if (f.kind != crosscut::sdk::ComponentKind::record_sink) continue;
    crosscut::config::validate_options(tree.root, f.schema, {tree.file, "sinks.bench"}, {"type"});
    auto c = f.create(crosscut::sdk::ConfigView(&tree.root, tree.file, "sinks.bench"), host);
    auto* sink = dynamic_cast<crosscut::kafka::KafkaRecordSink*>(c.release());
    return std::unique_ptr<crosscut::kafka::KafkaRecordSink>(sink);
  }
  throw std::runtime_error("no kafka record sink");
}

crosscut::sdk::Record record() {
  crosscut::sdk::Record r;
  r.topic = kTopic;
  r.payload = kPayload;
  return r;
}

void ours(benchmark::State& state) {
  crosscut::testing::TestHost host;
  auto sink = make_sink(host);
  sink->publish(record());  // connect and learn the topic before measuring
  if (!sink->flush(std::chrono::steady_clock::now() + 30s)) state.SkipWithError("warm-up failed");
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i)
      if (!sink->publish(record())) state.SkipWithError("record refused");
    if (!sink->flush(std::chrono::steady_clock::now() + 60s)) state.SkipWithError("not delivered");
  }
  if (sink->stats().failed != 0) state.SkipWithError("deliveries failed");
  state.SetItemsProcessed(state.iterations() * kBatch);
}

struct RawCounts {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};
};

void raw_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* counts = static_cast<RawCounts*>(opaque);
  (m->err ? counts->failed : counts->delivered).fetch_add(1, std::memory_order_relaxed);
}

rd_kafka_t* raw_producer(RawCounts& counts) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  rd_kafka_conf_set(conf, "bootstrap.servers", cluster().bootstrap_servers().c_str(), error,
                    sizeof error);
  for (const auto& [k, v] : kSettings) rd_kafka_conf_set(conf, k, v, error, sizeof error);
  rd_kafka_conf_set_opaque(conf, &counts);
  rd_kafka_conf_set_dr_msg_cb(conf, raw_delivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (rk == nullptr) throw std::runtime_error(error);
  return rk;
}

// rd_kafka_producev; on a full queue, serve delivery reports and retry.
bool raw_produce(rd_kafka_t* rk, bool poll_after_each) {
  for (;;) {
    const auto err =
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(kTopic.c_str()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(kPayload.data()), kPayload.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) return false;
    rd_kafka_poll(rk, 10);
  }
  if (poll_after_each) rd_kafka_poll(rk, 0);
  return true;
}

// The textbook loop: produce, rd_kafka_poll(0) after each record, rd_kafka_flush.
void librdkafka(benchmark::State& state) {
  RawCounts counts;
  rd_kafka_t* rk = raw_producer(counts);
  raw_produce(rk, true);
  rd_kafka_flush(rk, 30000);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i)
      if (!raw_produce(rk, true)) state.SkipWithError("record refused");
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
      state.SkipWithError("not delivered");
  }
  if (counts.failed.load() != 0) state.SkipWithError("deliveries failed");
  state.SetItemsProcessed(state.iterations() * kBatch);
  rd_kafka_destroy(rk);
}

// The same producer with delivery reports served by a thread of their own (the sink's
// architecture: publishers never run callbacks), to show what that thread costs by itself.
void librdkafka_dr_thread(benchmark::State& state) {
  RawCounts counts;
  rd_kafka_t* rk = raw_producer(counts);
  std::atomic<bool> stop{false};
  std::thread poller([&] {
    while (!stop.load()) rd_kafka_poll(rk, 50);
  });
  raw_produce(rk, false);
  rd_kafka_flush(rk, 30000);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i)
      if (!raw_produce(rk, false)) state.SkipWithError("record refused");
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
      state.SkipWithError("not delivered");
  }
  stop.store(true);
  poller.join();
  if (counts.failed.load() != 0) state.SkipWithError("deliveries failed");
  state.SetItemsProcessed(state.iterations() * kBatch);
  rd_kafka_destroy(rk);
}

}  // namespace

BENCHMARK(ours)->Name("crosscut/publish_200B")->UseRealTime()->MinTime(1.0);
BENCHMARK(librdkafka)->Name("librdkafka/publish_200B")->UseRealTime()->MinTime(1.0);
BENCHMARK(librdkafka_dr_thread)
    ->Name("librdkafka_dr_thread/publish_200B")
    ->UseRealTime()
    ->MinTime(1.0);

int main(int argc, char** argv) {
  cluster().create_topic(kTopic, 4);
  return crosscut::bench::run_with_ratios(argc, argv, "crosscut",
                                          {"librdkafka", "librdkafka_dr_thread"});
}
