#include "logging/crash_handler.hpp"

#include <signal.h>

#include <array>
#include <atomic>
#include <exception>
#include <mutex>

#include "core/exception_description.hpp"
#include "logging/engine_logger.hpp"

namespace crosscut::logging {
namespace {

struct FatalSignal {
  int number;
  const char* name;
};
constexpr std::array<FatalSignal, 5> kSignals{{{SIGSEGV, "SIGSEGV"},
                                               {SIGBUS, "SIGBUS"},
                                               {SIGFPE, "SIGFPE"},
                                               {SIGILL, "SIGILL"},
                                               {SIGABRT, "SIGABRT"}}};

std::array<std::atomic<CrashDrain*>, 64> g_drains{};
std::array<struct sigaction, kSignals.size()> g_previous{};
std::terminate_handler g_previous_terminate = nullptr;
std::atomic<bool> g_crashing{false};  // the first crash drains; any later one only chains

void drain_all(std::string_view message, const sdk::Value& extra) noexcept {
  for (auto& slot : g_drains)
    if (CrashDrain* d = slot.load(std::memory_order_acquire)) d->drain_for_crash(message, extra);
}

// Restores the disposition found at installation and hands the signal to it. A handler
// that was ignoring a fault signal would make the faulting instruction run again forever,
// so "ignore" gets the default action.
void chain(std::size_t i, int signo, siginfo_t* info, void* context) noexcept {
  const struct sigaction& previous = g_previous[i];
  ::sigaction(signo, &previous, nullptr);
  if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) {
    previous.sa_sigaction(signo, info, context);
    return;
  }
  if (previous.sa_handler == SIG_DFL || previous.sa_handler == SIG_IGN) {
    ::signal(signo, SIG_DFL);
    // Pending until this handler returns (the signal is blocked while it runs); a fault
    // would also recur when the instruction runs again.
    ::raise(signo);
    return;
  }
  previous.sa_handler(signo);
}

void on_fatal_signal(int signo, siginfo_t* info, void* context) {
  std::size_t i = 0;
  while (i < kSignals.size() && kSignals[i].number != signo) ++i;
  if (i == kSignals.size()) return;
  // A handler chained to that chains back here again: end the loop with the default action.
  static std::atomic<int> entered{0};
  if (entered.fetch_add(1) >= 2 * static_cast<int>(kSignals.size())) {
    ::signal(signo, SIG_DFL);
    ::raise(signo);
    return;
  }
  if (!g_crashing.exchange(true)) {
    try {
      sdk::Value::Object extra;
      extra.emplace_back("signal", kSignals[i].name);
      extra.emplace_back("signal_number", signo);
      drain_all(std::string("fatal signal ") + kSignals[i].name, sdk::Value(std::move(extra)));
    } catch (...) {
      // Out of memory while crashing: nothing more can be written.
    }
  }
  chain(i, signo, info, context);
}

void on_terminate() {
  if (!g_crashing.exchange(true)) {
    try {
      sdk::Value::Object extra;
      extra.emplace_back("reason", "std::terminate");
      if (std::exception_ptr e = std::current_exception())
        extra.emplace_back("exception", exception_value(core::describe_exception(e)));
      drain_all("std::terminate called", sdk::Value(std::move(extra)));
    } catch (...) {
    }
  }
  if (g_previous_terminate) g_previous_terminate();
  std::abort();
}

// Installs where crosscut's handler is not the current one: the first time, and again when
// a handler installed since has replaced it (that one is then the handler chained to).
void install() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  for (std::size_t i = 0; i < kSignals.size(); ++i) {
    struct sigaction current {};
    ::sigaction(kSignals[i].number, nullptr, &current);
    if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_fatal_signal) continue;
    struct sigaction action {};
    action.sa_sigaction = on_fatal_signal;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    ::sigaction(kSignals[i].number, &action, &g_previous[i]);
  }
  if (std::get_terminate() != on_terminate) g_previous_terminate = std::set_terminate(on_terminate);
}

}  // namespace

bool register_crash_drain(CrashDrain& drain) {
  install();
  for (auto& slot : g_drains) {
    CrashDrain* empty = nullptr;
    if (slot.compare_exchange_strong(empty, &drain)) return true;
  }
  return false;
}

void unregister_crash_drain(CrashDrain& drain) noexcept {
  for (auto& slot : g_drains) {
    CrashDrain* mine = &drain;
    slot.compare_exchange_strong(mine, nullptr);
  }
}

}  // namespace crosscut::logging
