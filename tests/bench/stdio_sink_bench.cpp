// The disk spool's cost: 200-byte records through the `file` sink behind its delivery queue
// with a spool (fsync: batch) against the same sink behind a queue without one (records wait
// in memory). Both write NDJSON to /dev/null; each iteration ends when every record is
// delivered, so a spool's read-back and fsync are inside the time.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>

#include "delivery/delivery_queue.hpp"
#include "peer_ratio_reporter.hpp"
#include "stdio_sink/fd_record_sink.hpp"
#include "support/test_host.hpp"

namespace {

using namespace std::chrono_literals;
constexpr int kBatch = 20'000;

// A 200-byte JSON payload, as a minute batch of a few symbols is.
const std::string kPayload = [] {
  std::string p =
      R"({"batch":{"key":"upbit/korea/ticker","items":[{"minute":1737619200,"total":42,"pad":")";
  p += std::string(200 - p.size() - 4, 'x');
  p += "\"}]}";
  return p;
}();

crosscut::sdk::Record record() {
  crosscut::sdk::Record r;
  r.topic = "ws.metrics";
  r.key = "upbit/korea/ticker";
  r.payload = kPayload;
  return r;
}

std::unique_ptr<crosscut::delivery::DeliveryQueue> make_queue(
    const crosscut::delivery::DeliveryOptions& options, crosscut::sdk::Logger& log) {
  const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  auto sink = std::make_unique<crosscut::stdio_sink::FdRecordSink>(
      fd, true, "file /dev/null", crosscut::stdio_sink::QueueOptions{}, log);
  auto* typed = sink.get();
  crosscut::core::OwnedComponent<crosscut::sdk::RecordSink> component(nullptr, std::move(sink),
                                                                      typed, "file", "out");
  return std::make_unique<crosscut::delivery::DeliveryQueue>("out", std::move(component), options,
                                                             log);
}

void run(benchmark::State& state, const crosscut::delivery::DeliveryOptions& options) {
  crosscut::testing::CapturingLogger log("delivery");
  auto queue = make_queue(options, log);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i)
      if (!queue->publish(record())) state.SkipWithError("record refused");
    if (!queue->flush(std::chrono::steady_clock::now() + 60s)) state.SkipWithError("not delivered");
  }
  queue->close();
  if (queue->counts().lost() != 0) state.SkipWithError("records lost");
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void spooled(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("crosscut-bench-spool-" + std::to_string(std::random_device{}()));
  crosscut::delivery::DeliveryOptions options;
  options.spool.path = dir.string();
  options.spool.fsync = crosscut::delivery::FsyncPolicy::batch;
  run(state, options);
  std::filesystem::remove_all(dir);
}

void in_memory(benchmark::State& state) {
  run(state, {});
}

// The sink by itself, no delivery queue: what the queue adds in either mode.
void sink_alone(benchmark::State& state) {
  crosscut::testing::CapturingLogger log("delivery");
  crosscut::stdio_sink::FdRecordSink sink(::open("/dev/null", O_WRONLY | O_CLOEXEC), true,
                                          "file /dev/null", crosscut::stdio_sink::QueueOptions{},
                                          log);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i)
      if (!sink.publish(record())) state.SkipWithError("record refused");
    if (!sink.flush(std::chrono::steady_clock::now() + 60s)) state.SkipWithError("not delivered");
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

}  // namespace

BENCHMARK(spooled)->Name("crosscut/file_sink_200B")->UseRealTime()->MinTime(1.0);
BENCHMARK(in_memory)->Name("no_spool/file_sink_200B")->UseRealTime()->MinTime(1.0);
BENCHMARK(sink_alone)->Name("sink_alone/file_sink_200B")->UseRealTime()->MinTime(1.0);

int main(int argc, char** argv) {
  return crosscut::bench::run_with_ratios(argc, argv, "crosscut", {"no_spool", "sink_alone"});
}
