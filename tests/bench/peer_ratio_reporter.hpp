// The one reporter every crosscut benchmark uses: console output as usual, then a table of
// ratios between our implementation and each peer that did the same work in the same run.
//
// Benchmarks are named "<implementation>/<case>", e.g. "crosscut/one_thread" and
// "mutex_map/one_thread"; print_ratios("crosscut", {"mutex_map"}) pairs them by case.
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
      if (run.threads > 1) name += "/threads:" + std::to_string(run.threads);
      Times t{run.GetAdjustedCPUTime(), run.GetAdjustedRealTime()};
      if (auto it = run.counters.find("items_per_second"); it != run.counters.end()) t.items_per_second = it->second;
      times_[name] = t;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // Prints, for every case measured for `ours` and a peer, peer time / our time (above 1:
  // ours is faster), by CPU time per iteration and by wall time.
  void print_ratios(const std::string& ours, const std::vector<std::string>& peers) const {
    std::printf("\n%-40s %-22s %10s %10s %8s %8s\n", "case", "peer", "ours ns", "peer ns", "cpu x", "wall x");
    for (const auto& [name, mine] : times_) {
      if (name.rfind(ours + "/", 0) != 0) continue;
      const std::string rest = name.substr(ours.size() + 1);
      for (const auto& peer : peers) {
        auto it = times_.find(peer + "/" + rest);
        if (it == times_.end()) continue;
        std::printf("%-40s %-22s %10.1f %10.1f %7.2fx %7.2fx\n", rest.c_str(), peer.c_str(), mine.cpu,
                    it->second.cpu, it->second.cpu / mine.cpu, it->second.wall / mine.wall);
      }
    }
    std::printf("(x = peer time / %s time; above 1 means %s is faster)\n", ours.c_str(), ours.c_str());
  }

  // Time per iteration of one run by name, or a negative number when it did not run.
  double cpu_ns(const std::string& name) const {
    auto it = times_.find(name);
    return it == times_.end() ? -1 : it->second.cpu;
  }

 private:
  struct Times {
    double cpu = 0;
    double wall = 0;
    double items_per_second = 0;
  };
  std::map<std::string, Times> times_;
};

// Runs the registered benchmarks with the reporter, then prints the ratio table.
inline int run_with_ratios(int argc, char** argv, const std::string& ours, const std::vector<std::string>& peers) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  PeerRatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios(ours, peers);
  benchmark::Shutdown();
  return 0;
}

}  // namespace crosscut::bench
