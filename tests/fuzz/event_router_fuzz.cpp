// The agent's NDJSON event router, against a real runtime (memory breakers, rules, error
// reports and minute batches to stdout, the log to stdout; stdout goes to /dev/null). Each
// input is one line, given to a router for agent events and to one for raw market data. Nothing
// may escape on_line(), and every line is counted exactly once: as the one event it carried,
// or as a bad line.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/event_router.hpp"
#include "agent/market_data_mapping.hpp"
#include "config/yaml_tree_loader.hpp"
#include "crosscut/runtime.hpp"

namespace {

using crosscut::agent::AgentStats;
using crosscut::agent::BadLineReporter;
using crosscut::agent::EventRouter;

constexpr const char* kConfig = R"(
plugins: {load: [memory_breaker, stdio_sink, console_log, yaml_rules]}
logging:
  level: debug
  sinks: [{type: console, stream: stdout}]
  pii: {custom: ["acct-[0-9]{6}"]}
sinks:
  out: {type: stdout}
errors:
  sink: out
  rules:
    - name: rate-limited
      match: {kind: ws_connection, message: "(?i)429|too many requests", exchange: upbit}
      then: {kind: rate_limited, severity: warning, breaker: trip, suppress_for: 1s}
    - name: quiet
      match: {exception: "*Timeout*"}
      then: {severity: info, publish: false}
metrics: {sink: out}
breakers:
  backend: {type: memory}
  defaults: {failure_threshold: 2, timeout: 1s, sliding_window: 2s}
)";

constexpr const char* kMarketData =
    "target: {exchange: upbit, region: korea, request_type: ticker}\nsymbol_field: code\n"
    "time_field: timestamp\nsymbol_regex: \"^KRW-(.+)$\"\n";

// The keys, targets and symbols inputs name accumulate in the runtime: start afresh now and
// then, so that a long run measures the router rather than the growth of those tables.
constexpr std::uint64_t kRunsPerRuntime = 20'000;

struct Harness {
  std::unique_ptr<crosscut::Runtime> runtime;
  AgentStats events_stats;
  AgentStats market_stats;
  std::unique_ptr<BadLineReporter> bad;
  std::unique_ptr<EventRouter> events;
  std::unique_ptr<EventRouter> market;

  Harness() {
    crosscut::RuntimeOptions options;
    options.plugin_paths = {CROSSCUT_FUZZ_PLUGIN_DIR};
    runtime = crosscut::Runtime::from_string(kConfig, "fuzz.yaml", options);
    bad = std::make_unique<BadLineReporter>(runtime->logger("agent.input"), 10);
    events = std::make_unique<EventRouter>(*runtime, events_stats, *bad, std::nullopt);
    auto tree = crosscut::config::parse_yaml_tree(kMarketData, "market_data.yaml");
    crosscut::agent::MarketDataMapping mapping(
        crosscut::sdk::ConfigView(&tree.root, tree.file, "market_data"));
    market = std::make_unique<EventRouter>(*runtime, market_stats, *bad, std::move(mapping));
  }
};

std::uint64_t counted(const AgentStats& s) {
  return s.messages.load() + s.errors.load() + s.outcomes.load() + s.logs.load() +
         s.bad_lines.load();
}

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "event router fuzz finding: %s\n", what.c_str());
  std::abort();
}

void route(EventRouter& router, const AgentStats& stats, std::string_view line,
           std::uint64_t line_no, const char* which) {
  const std::uint64_t lines = stats.lines.load();
  const std::uint64_t before = counted(stats);
  try {
    router.on_line(line, {"fuzz", line_no});
  } catch (const std::exception& e) {
    finding(std::string(which) + ": on_line threw: " + e.what());
  } catch (...) {
    finding(std::string(which) + ": on_line threw a non-exception");
  }
  if (stats.lines.load() != lines + 1) finding(std::string(which) + ": the line was not counted");
  if (counted(stats) != before + 1)
    finding(std::string(which) + ": the line was counted as " +
            std::to_string(counted(stats) - before) + " events");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Each runtime unloads its plugins, but libFuzzer keeps reading the coverage counters they
  // registered: hold them mapped for the whole run.
  for (const char* plugin : {"memory_breaker", "stdio_sink", "console_log", "yaml_rules"}) {
    const std::string path =
        std::string(CROSSCUT_FUZZ_PLUGIN_DIR) + "/libcrosscut-" + plugin + ".so";
    if (!dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)) {
      std::fprintf(stderr, "%s\n", dlerror());
      std::abort();
    }
  }
  // The runtime's output is of no interest; libFuzzer and the sanitizers write to stderr.
  const int null = open("/dev/null", O_WRONLY);
  if (null < 0 || dup2(null, STDOUT_FILENO) < 0) {
    std::perror("/dev/null");
    std::abort();
  }
  close(null);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Never destroyed at exit: by then the thread-local buffers the runtime logs through at
  // shutdown are gone. Reachable, so not a leak.
  static Harness* harness = nullptr;
  static std::uint64_t runs = 0;
  if (runs++ % kRunsPerRuntime == 0) {
    delete harness;
    harness = new Harness();
  }
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  route(*harness->events, harness->events_stats, line, runs, "events");
  route(*harness->market, harness->market_stats, line, runs, "market data");
  return 0;
}
