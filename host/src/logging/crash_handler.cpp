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

void on_fatal_signal(int signo, siginfo_t* info, void* context);

template <class Call>
void for_each_drain(Call call) noexcept {
  for (auto& slot : g_drains)
    if (CrashDrain* d = slot.load(std::memory_order_acquire)) call(*d);
}

void install_handler(std::size_t i, struct sigaction* previous) noexcept {
  struct sigaction action {};
  action.sa_sigaction = on_fatal_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  ::sigaction(kSignals[i].number, &action, previous);
}

// Restores the disposition found at installation and hands the signal to it. True when that
// was a handler that returned: it may have dealt with the signal. Otherwise the default
// action is pending and the process dies once this handler returns (a fault would recur).
// A handler that was ignoring a fault signal would make the faulting instruction run again
// forever, so "ignore" gets the default action.
bool chain(std::size_t i, int signo, siginfo_t* info, void* context) noexcept {
  const struct sigaction& previous = g_previous[i];
  if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) {
    ::sigaction(signo, &previous, nullptr);
    previous.sa_sigaction(signo, info, context);
    return true;
  }
  if (previous.sa_handler == SIG_DFL || previous.sa_handler == SIG_IGN) {
    ::signal(signo, SIG_DFL);
    ::raise(signo);  // pending: the signal is blocked while this handler runs
    return false;
  }
  ::sigaction(signo, &previous, nullptr);
  previous.sa_handler(signo);
  return true;
}

bool still_previous(std::size_t i, int signo) noexcept {
  struct sigaction now {};
  ::sigaction(signo, nullptr, &now);
  const struct sigaction& previous = g_previous[i];
  return (previous.sa_flags & SA_SIGINFO)
             ? ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == previous.sa_sigaction)
             : (!(now.sa_flags & SA_SIGINFO) && now.sa_handler == previous.sa_handler);
}

void on_fatal_signal(int signo, siginfo_t* info, void* context) {
  std::size_t i = 0;
  while (i < kSignals.size() && kSignals[i].number != signo) ++i;
  if (i == kSignals.size()) return;
  const bool first = !g_crashing.exchange(true);
  if (first) {
    try {
      sdk::Value::Object fields;
      fields.emplace_back("signal", kSignals[i].name);
      fields.emplace_back("signal_number", signo);
      const sdk::Value extra(std::move(fields));
      const std::string message = std::string("fatal signal ") + kSignals[i].name;
      for_each_drain([&](CrashDrain& d) { d.drain_for_crash(message, extra); });
    } catch (...) {
      // Out of memory while crashing: nothing more can be written.
    }
  }
  if (chain(i, signo, info, context) && first && still_previous(i, signo)) {
    // The earlier handler returned and left itself installed: it recovered (a runtime that
    // maps pages on demand, say). Put this handler back and let logging go on. One that
    // changed the disposition (to the default, to die when the fault recurs) is left alone.
    install_handler(i, nullptr);
    for_each_drain([](CrashDrain& d) { d.resume_after_crash(); });
    g_crashing.store(false);
  }
}

void on_terminate() {
  static std::atomic<bool> terminating{false};
  if (terminating.exchange(true)) std::abort();  // a terminate handler that calls back here
  if (!g_crashing.exchange(true)) {
    try {
      sdk::Value::Object fields;
      fields.emplace_back("reason", "std::terminate");
      if (std::exception_ptr e = std::current_exception())
        fields.emplace_back("exception", exception_value(core::describe_exception(e)));
      const sdk::Value extra(std::move(fields));
      for_each_drain([&](CrashDrain& d) { d.drain_for_crash("std::terminate called", extra); });
    } catch (...) {
    }
  }
  if (g_previous_terminate) g_previous_terminate();
  std::abort();
}

void install_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (std::size_t i = 0; i < kSignals.size(); ++i) install_handler(i, &g_previous[i]);
    g_previous_terminate = std::set_terminate(on_terminate);
  });
}

}  // namespace

bool register_crash_drain(CrashDrain& drain) {
  install_once();
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
