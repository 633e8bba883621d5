#include "admin/runtime_metric_families.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/log.hpp"

namespace crosscut::admin {
namespace {

using Type = MetricFamily::Type;
using Labels = std::vector<std::pair<std::string, std::string>>;

MetricFamily family(std::string name, std::string help, Type type) {
  return {std::move(name), std::move(help), type, {}};
}

MetricFamily single(std::string name, std::string help, Type type, double value) {
  MetricFamily f = family(std::move(name), std::move(help), type);
  f.samples.push_back({{}, value});
  return f;
}

// A component's add_metric name ("unix_input.clients_refused") as a metric name.
std::string metric_name(const std::string& component) {
  std::string out = "crosscut_component_";
  for (char c : component)
    out += (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
  return out;
}

}  // namespace

std::vector<MetricFamily> runtime_metric_families(const RuntimeFigures& f) {
  std::vector<MetricFamily> out;
  MetricFamily build =
      family("crosscut_build_info", "The crosscut version and SDK ABI of this process (always 1).",
             Type::gauge);
  build.samples.push_back(
      {{{"version", CROSSCUT_VERSION}, {"sdk_abi", std::to_string(CROSSCUT_SDK_ABI_VERSION)}}, 1});
  out.push_back(std::move(build));

  MetricFamily errors = family("crosscut_errors_dispatched_total",
                               "Errors dispatched, by the kind decided for them.", Type::counter);
  for (const auto& [kind, n] : f.errors_by_kind)
    errors.samples.push_back({{{"kind", kind}}, static_cast<double>(n)});
  out.push_back(std::move(errors));
  out.push_back(single("crosscut_errors_suppressed_total",
                       "Errors held back as duplicates of a published one.", Type::counter,
                       static_cast<double>(f.errors_suppressed)));

  MetricFamily sinks =
      family("crosscut_sink_records_total", "Records of each record sink, by what became of them.",
             Type::counter);
  MetricFamily waiting =
      family("crosscut_sink_records_waiting",
             "Records each record sink accepted and has not delivered yet.", Type::gauge);
  for (const auto& s : f.sinks) {
    const std::pair<const char*, std::uint64_t> outcomes[] = {{"published", s.published},
                                                              {"delivered", s.delivered},
                                                              {"failed", s.failed},
                                                              {"dropped", s.dropped}};
    for (const auto& [outcome, n] : outcomes)
      sinks.samples.push_back({{{"sink", s.sink}, {"outcome", outcome}}, static_cast<double>(n)});
    waiting.samples.push_back({{{"sink", s.sink}}, static_cast<double>(s.waiting)});
  }
  out.push_back(std::move(sinks));
  out.push_back(std::move(waiting));

  MetricFamily transitions =
      family("crosscut_breaker_transitions_total",
             "Breaker transitions this process made, by the state entered.", Type::counter);
  transitions.samples.push_back({{{"to", "CLOSED"}}, static_cast<double>(f.transitions.to_closed)});
  transitions.samples.push_back({{{"to", "OPEN"}}, static_cast<double>(f.transitions.to_open)});
  transitions.samples.push_back(
      {{{"to", "HALF_OPEN"}}, static_cast<double>(f.transitions.to_half_open)});
  out.push_back(std::move(transitions));
  MetricFamily states =
      family("crosscut_breakers", "Breakers the backend holds, by their state.", Type::gauge);
  const char* state_names[] = {"CLOSED", "OPEN", "HALF_OPEN"};
  for (std::size_t i = 0; i < 3; ++i)
    states.samples.push_back(
        {{{"state", state_names[i]}}, static_cast<double>(f.breakers_in_state[i])});
  out.push_back(std::move(states));

  out.push_back(single("crosscut_metrics_increments_total",
                       "Message counts in the minute batches published.", Type::counter,
                       static_cast<double>(f.metrics_increments)));
  out.push_back(single("crosscut_metrics_batches_published_total",
                       "Minute batches the metrics sink accepted.", Type::counter,
                       static_cast<double>(f.metrics_batches)));
  out.push_back(single("crosscut_metrics_counters", "Minute batch counters held now.", Type::gauge,
                       static_cast<double>(f.counters_live)));

  MetricFamily records =
      family("crosscut_log_records_total", "Log records written, by level.", Type::counter);
  for (std::size_t i = 0; i < f.log_records.size(); ++i) {
    const std::string_view name = sdk::level_name(static_cast<sdk::Level>(i));
    records.samples.push_back(
        {{{"level", std::string(name)}}, static_cast<double>(f.log_records[i])});
  }
  out.push_back(std::move(records));
  out.push_back(single("crosscut_log_suppressed_total", "Log records held back by sampling.",
                       Type::counter, static_cast<double>(f.log_suppressed)));
  out.push_back(single("crosscut_log_dropped_total",
                       "Log records refused by a full queue (overflow: drop_newest).",
                       Type::counter, static_cast<double>(f.log_dropped)));

  out.push_back(single("crosscut_bus_queue_depth", "Events queued on the bus, not yet handled.",
                       Type::gauge, static_cast<double>(f.bus_queue_depth)));
  out.push_back(single("crosscut_bus_events_published_total", "Events accepted by the bus.",
                       Type::counter, static_cast<double>(f.bus_published)));
  out.push_back(single("crosscut_bus_dropped_total",
                       "Events the bus refused or discarded (overflow policy, or after stop).",
                       Type::counter, static_cast<double>(f.bus_dropped)));

  MetricFamily reloads =
      family("crosscut_reloads_total", "Configuration reloads, by result.", Type::counter);
  reloads.samples.push_back({{{"result", "success"}}, static_cast<double>(f.reloads.succeeded)});
  reloads.samples.push_back({{{"result", "failure"}}, static_cast<double>(f.reloads.failed)});
  out.push_back(std::move(reloads));
  out.push_back(single("crosscut_last_reload_success_timestamp_seconds",
                       "When the running configuration was loaded (Unix time).", Type::gauge,
                       static_cast<double>(f.reloads.last_success_unix_s)));

  for (const auto& [name, value] : f.components)
    out.push_back(single(metric_name(name), "Counted by a component: " + name + ".", Type::gauge,
                         static_cast<double>(value)));
  return out;
}

std::vector<MetricFamily> process_metric_families() {
  std::vector<MetricFamily> out;
  const long page = ::sysconf(_SC_PAGESIZE);
  long pages_total = 0, pages_resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(f);
  }
  out.push_back(single("process_resident_memory_bytes", "Resident memory size in bytes.",
                       Type::gauge,
                       static_cast<double>(pages_resident) * static_cast<double>(page)));
  out.push_back(single("process_virtual_memory_bytes", "Virtual memory size in bytes.", Type::gauge,
                       static_cast<double>(pages_total) * static_cast<double>(page)));
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  out.push_back(single("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
                       Type::counter, cpu));
  double fds = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++fds;
    ::closedir(d);
    fds -= 1;  // the directory's own descriptor
  }
  out.push_back(single("process_open_fds", "Number of open file descriptors.", Type::gauge, fds));
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    out.push_back(single("process_max_fds", "Maximum number of open file descriptors.", Type::gauge,
                         static_cast<double>(limit.rlim_cur)));
  // The start time: boot time plus the process's start in clock ticks.
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::ifstream proc_stat("/proc/stat");
  std::string line;
  long long boot = 0;
  while (std::getline(proc_stat, line))
    if (line.rfind("btime ", 0) == 0) boot = std::stoll(line.substr(6));
  const auto close_paren = text.rfind(')');
  if (boot > 0 && close_paren != std::string::npos) {
    // Field 22 (starttime); fields after the command start at field 3.
    std::size_t pos = close_paren + 2;
    for (int field = 3; field < 22 && pos < text.size(); ++field) pos = text.find(' ', pos) + 1;
    const double ticks = std::strtod(text.c_str() + pos, nullptr);
    out.push_back(
        single("process_start_time_seconds",
               "Start time of the process since the Unix epoch in seconds.", Type::gauge,
               static_cast<double>(boot) + ticks / static_cast<double>(::sysconf(_SC_CLK_TCK))));
  }
  return out;
}

}  // namespace crosscut::admin
