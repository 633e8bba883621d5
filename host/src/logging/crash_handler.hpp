// Fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) and std::terminate: before the
// process dies, each registered drain writes out what its queues hold, then the handler that
// was installed before (or the default action) runs, so core dumps and exit statuses stay
// what they would have been.
#pragma once

#include <string_view>

#include "crosscut/sdk/value.hpp"

namespace crosscut::logging {

// Implemented by the logging engine. Called at most once per process, on the crashing
// thread, from a signal handler or the terminate handler; it must not wait on other threads
// without a bound. `message` and `extra` describe the cause for the critical record.
class CrashDrain {
 public:
  virtual void drain_for_crash(std::string_view message, const sdk::Value& extra) noexcept = 0;
  // The handler chained to returned (it recovered from the signal): carry on logging.
  virtual void resume_after_crash() noexcept = 0;

 protected:
  ~CrashDrain() = default;
};

// Installs the handlers on the first call (once per process, chaining to whatever was
// installed before; they stay installed and only chain once no drain is registered) and
// registers `drain`. False when the registry (64 engines) is full.
bool register_crash_drain(CrashDrain& drain);
// After this returns the drain is not called again, unless a crash is already under way.
void unregister_crash_drain(CrashDrain& drain) noexcept;

}  // namespace crosscut::logging
