// Lines per second from a file of ~1M short NDJSON lines: the `file` input (large reads,
// memchr, lines handed out of the read buffer) against the obvious peer, a std::getline loop
// over std::ifstream. Both hand every line to the same counting InputSink, so they do the
// same work; the file is in the page cache after it is written, so this measures CPU.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <fstream>
#include <stop_token>
#include <string>

#include "crosscut/sdk/input.hpp"
#include "local_inputs/file_input.hpp"
#include "peer_ratio_reporter.hpp"
#include "support/process.hpp"

namespace {

constexpr int kLines = 1'000'000;

// Counts what it receives; nothing else.
class CountingSink final : public crosscut::sdk::InputSink {
 public:
  void on_line(std::string_view line, const crosscut::sdk::InputPosition& where) override {
    ++lines;
    bytes += line.size();
    last_line = where.line;
  }
  void on_message(const crosscut::sdk::Target&, std::string_view,
                  std::optional<std::int64_t>) override {}
  void on_bad_input(const crosscut::sdk::InputPosition&, std::string_view) override { ++bad; }

  std::uint64_t lines = 0, bytes = 0, last_line = 0, bad = 0;
};

struct Corpus {
  crosscut::testing::TempDir dir;
  std::string path;
  Corpus() {
    std::string content;
    content.reserve(kLines * 72);
    for (int i = 0; i < kLines; ++i)
      content +=
          "{\"event\":\"outcome\",\"resource\":\"upbit/korea/ticker\",\"n\":" + std::to_string(i) +
          "}\n";
    path = dir.write("day.ndjson", content).string();
  }
};

const Corpus& corpus() {
  static const Corpus c;
  return c;
}

void finish(benchmark::State& state, const CountingSink& sink, std::uint64_t per_pass) {
  if (sink.lines != per_pass * state.iterations() || sink.bad != 0)
    state.SkipWithError("wrong line count");
  state.SetItemsProcessed(static_cast<std::int64_t>(sink.lines));
  state.SetBytesProcessed(static_cast<std::int64_t>(sink.bytes));
}

void file_input(benchmark::State& state) {
  const auto& c = corpus();
  CountingSink sink;
  for (auto _ : state) {
    crosscut::local_inputs::FileInput input({.path = c.path});
    input.run(sink, std::stop_token{});
  }
  finish(state, sink, kLines);
}

void getline_loop(benchmark::State& state) {
  const auto& c = corpus();
  CountingSink sink;
  std::string line;
  for (auto _ : state) {
    std::ifstream in(c.path);
    std::uint64_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (!line.empty()) sink.on_line(line, {"peer", number});
    }
  }
  finish(state, sink, kLines);
}

}  // namespace

int main(int argc, char** argv) {
  corpus();  // written (and cached) before anything is timed
  benchmark::RegisterBenchmark("local_inputs/file_1M_lines", file_input)->MinTime(0.5);
  benchmark::RegisterBenchmark("getline/file_1M_lines", getline_loop)->MinTime(0.5);
  return crosscut::bench::run_with_ratios(argc, argv, "local_inputs", {"getline"});
}
