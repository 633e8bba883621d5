// Agent events/s: message events routed through the agent's event router into minute batch
// counters (no sink), against a loop that only parses the same lines with RapidJSON.
#include <rapidjson/document.h>

#include "agent/event_router.hpp"
#include "peer_ratio_reporter.hpp"

namespace {

std::vector<std::string> make_lines(std::size_t n) {
  const char* symbols[] = {"BTC", "ETH", "XRP", "SOL", "DOGE"};
  std::vector<std::string> lines;
  lines.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    lines.push_back(
        R"({"event":"message","target":{"exchange":"upbit","region":"korea","request_type":"ticker"},"symbol":")" +
        std::string(symbols[i % 5]) + R"(","ts_ms":)" + std::to_string(1737619200000 + i * 7) +
        "}");
  return lines;
}

const std::vector<std::string>& lines() {
  static const auto l = make_lines(100'000);
  return l;
}

void agent_router(benchmark::State& state) {
  crosscut::RuntimeOptions o;
  o.plugin_paths = {CROSSCUT_TEST_PLUGIN_DIR};
  o.quiet = true;
  auto rt = crosscut::Runtime::from_string("plugins: {load: [memory_breaker]}\n", "bench.yaml", o);
  crosscut::agent::AgentStats stats;
  crosscut::agent::BadLineReporter bad(rt->logger("bench"), 10);
  crosscut::agent::EventRouter router(*rt, stats, bad, std::nullopt);
  std::size_t i = 0;
  for (auto _ : state) {
    router.on_line(lines()[i], {"bench", i + 1});
    if (++i == lines().size()) i = 0;
  }
  if (stats.bad_lines.load() != 0) state.SkipWithError("bad lines in the benchmark input");
  state.SetItemsProcessed(state.iterations());
}

void rapidjson_parse_only(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    rapidjson::Document doc;
    doc.Parse(lines()[i].data(), lines()[i].size());
    benchmark::DoNotOptimize(doc.IsObject());
    if (++i == lines().size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("crosscut/message_event", agent_router)->MinTime(0.5);
  benchmark::RegisterBenchmark("rapidjson_parse_only/message_event", rapidjson_parse_only)
      ->MinTime(0.5);
  return crosscut::bench::run_with_ratios(argc, argv, "crosscut", {"rapidjson_parse_only"});
}
