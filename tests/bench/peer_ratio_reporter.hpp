// The one reporter every crosscut benchmark uses: console output as usual, then a table of
// ratios between our implementation and each peer that did the same work in the same run.
//
// Benchmarks are named "<implementation>/<case>", e.g. "crosscut/one_thread" and
// "mutex_map/one_thread"; print_ratios("crosscut", {"mutex_map"}) pairs them by case
// (arguments and a thread count other than 1 are part of the case).
//
// Besides time per iteration, every user counter both runs report gets a row (not the
// items/bytes per second Google Benchmark derives from the time): counters named "*_ns" are
// times (e.g. a percentile), the others rates (e.g. handled_per_s). In every row "x" is above
// 1 when ours is better.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace crosscut::bench {

class PeerRatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      std::string name = run.run_name.function_name;
      if (!run.run_name.args.empty()) name += "/" + run.run_name.args;
      if (run.threads > 1) name += "/threads:" + std::to_string(run.threads);
      Times t{run.GetAdjustedCPUTime(), run.GetAdjustedRealTime(), {}};
      for (const auto& [counter, value] : run.counters)
        if (counter != "items_per_second" && counter != "bytes_per_second")  // time, restated
          t.counters[counter] = value;
      times_[name] = std::move(t);
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // Prints, for every case measured for `ours` and a peer, peer time / our time by CPU time
  // per iteration and by wall time, then one row per shared counter.
  void print_ratios(const std::string& ours, const std::vector<std::string>& peers) const {
    std::printf("\n%-40s %-22s %12s %12s %8s %8s\n", "case", "peer", "ours", "peer", "cpu x",
                "wall x");
    for (const auto& [name, mine] : times_) {
      if (name.rfind(ours + "/", 0) != 0) continue;
      const std::string rest = name.substr(ours.size() + 1);
      for (const auto& peer : peers) {
        auto it = times_.find(peer + "/" + rest);
        if (it == times_.end()) continue;
        const Times& theirs = it->second;
        std::printf("%-40s %-22s %10.1fns %10.1fns %7.2fx %7.2fx\n", rest.c_str(), peer.c_str(),
                    mine.wall, theirs.wall, theirs.cpu / mine.cpu, theirs.wall / mine.wall);
        for (const auto& [counter, value] : mine.counters) {
          auto other = theirs.counters.find(counter);
          if (other == theirs.counters.end() || value == 0 || other->second == 0) continue;
          const bool is_time = counter.size() > 3 && counter.ends_with("_ns");
          const std::string label = "  " + counter;
          std::printf("%-40s %-22s %12.4g %12.4g %7.2fx\n", label.c_str(), peer.c_str(), value,
                      other->second, is_time ? other->second / value : value / other->second);
        }
      }
    }
    std::printf(
        "(ours/peer columns: wall time per iteration, or the counter; x above 1 means "
        "%s is better)\n",
        ours.c_str());
  }

 private:
  struct Times {
    double cpu = 0;
    double wall = 0;
    std::map<std::string, double> counters;
  };
  std::map<std::string, Times> times_;
};

// Which implementation is compared with which peers.
struct Comparison {
  std::string ours;
  std::vector<std::string> peers;
};

// Runs the registered benchmarks with the reporter, then prints a ratio table per comparison.
inline int run_with_ratios(int argc, char** argv, const std::vector<Comparison>& comparisons) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  PeerRatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  for (const auto& c : comparisons) reporter.print_ratios(c.ours, c.peers);
  benchmark::Shutdown();
  return 0;
}

inline int run_with_ratios(int argc, char** argv, const std::string& ours,
                           const std::vector<std::string>& peers) {
  return run_with_ratios(argc, argv, {Comparison{ours, peers}});
}

}  // namespace crosscut::bench
