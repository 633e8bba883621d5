#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "agent/agent.hpp"
#include "cli_support.hpp"
#include "commands.hpp"
#include "crosscut/runtime.hpp"

namespace crosscut::cli {
namespace {

// Tells systemd (Type=notify) where the agent is; nothing happens outside a notify unit.
void notify_systemd(Readiness r) {
  switch (r) {
    case Readiness::ready:
      sd_notify(0, "READY=1\nSTATUS=running");
      return;
    case Readiness::reloading: {
      timespec now{};
      clock_gettime(CLOCK_MONOTONIC, &now);
      const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
                        static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
      sd_notifyf(0, "RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=%llu", usec);
      return;
    }
    case Readiness::stopping:
      sd_notify(0, "STOPPING=1\nSTATUS=stopping");
      return;
    case Readiness::starting:
      return;
  }
}

// Pings the systemd watchdog at half its period while the agent runs (WatchdogSec=).
class WatchdogPinger {
 public:
  WatchdogPinger() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    const auto period = std::chrono::microseconds(usec / 2);
    thread_ = std::thread([this, period] {
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, period, [&] { return stop_; })) sd_notify(0, "WATCHDOG=1");
    });
  }
  ~WatchdogPinger() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  WatchdogPinger(const WatchdogPinger&) = delete;
  WatchdogPinger& operator=(const WatchdogPinger&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

struct RunArgs {
  std::string config;
  std::vector<std::string> paths;
};

int run_agent(const RunArgs& args) {
  // Block the signals in every thread (threads inherit the mask); one thread takes them.
  // SIGUSR1 tells that thread to finish once the agent has stopped by itself (another process's
  // SIGUSR1 is ignored).
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  RuntimeOptions options = runtime_options(args.paths);
  options.build = BuildScope::agent;
  auto rt = Runtime::from_file(args.config, options);
  const agent::AgentOptions agent_options =
      agent::agent_options_table().read(rt->config_section("agent"));
  agent::Agent agent(*rt, agent_options);
  auto log = rt->logger("agent", "app");
  rt->set_readiness_listener(notify_systemd);
  WatchdogPinger watchdog;

  // A stop signal ends the process within shutdown_timeout plus one second, whatever a sink
  // or an input does: past that the process says what it could not deliver and exits.
  std::mutex finished_mu;
  std::condition_variable finished_cv;
  bool finished = false;
  const auto grace = agent_options.shutdown_timeout + std::chrono::milliseconds(800);
  auto enforce_deadline = [&] {
    std::unique_lock lock(finished_mu);
    if (finished_cv.wait_for(lock, grace, [&] { return finished; })) return;
    print_error(rt->delivery_report().summary() + "; shutdown did not finish within " +
                std::to_string(grace.count()) + " ms, exiting");
    ::_exit(kExitFailure);
  };

  std::thread signal_thread([&] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        // Log files are reopened at once; the reload runs on the runtime's reload thread, and
        // SIGHUPs arriving meanwhile are merged into one more reload.
        log.info("reopening log files and reloading the configuration", {{"signal", "SIGHUP"}});
        rt->reopen_logs();
        rt->request_reload();
        continue;
      }
      if (sig == SIGUSR1) {
        // Ours once the agent has stopped by itself; anyone else's is ignored.
        std::lock_guard lock(finished_mu);
        if (finished) return;
        continue;
      }
      log.info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      agent.request_stop();
      enforce_deadline();
      return;
    }
  });
  const bool ok = agent.run();
  {
    std::lock_guard lock(finished_mu);
    finished = true;
  }
  finished_cv.notify_all();
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  rt->set_readiness_listener({});
  int code = ok ? kExitOk : kExitFailure;
  for (const auto& failure : agent.failed_inputs()) {
    print_error(failure);
    code = kExitFailure;
  }
  const DeliveryReport report = rt->delivery_report();
  if (report.lost() != 0) {
    print_error(report.summary());
    code = kExitFailure;
  }
  if (const std::uint64_t unwritten = rt->log_sink_failures(); unwritten != 0) {
    print_error(std::to_string(unwritten) + " log records could not be written by a log sink");
    code = kExitFailure;
  }
  return code;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd =
      app.add_subcommand("run", "Run the agent until every input has ended, or SIGTERM/SIGINT");
  cmd->add_option("-c,--config", args->config, "Configuration file")->required();
  cmd->add_option("--path", args->paths, "Also search this folder for plugins (repeatable)");
  cmd->callback([args, &exit_code] { exit_code = run_guarded([&] { return run_agent(*args); }); });
}

}  // namespace crosscut::cli
