// crosscut::Logger: the handle application code logs through.
//
//   auto log = rt.logger("orchestrator", "app");
//   log.info("connection created", {{"exchange", "upbit"}, {"offset", 12345}});
//   try { ... } catch (const std::exception& e) { log.error("subscribe failed", e); }
//
// Records are structured: fields are typed, context fields of the current
// crosscut::ContextScope are added, PII is masked and the line is written asynchronously.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <string_view>

#include "crosscut/export.hpp"
#include "crosscut/sdk/log.hpp"

namespace crosscut {

// The receiving end of a Logger handle, implemented by the logging engine; it is also the
// sdk::Logger handed to plugins. Thread-safe. The level check is an inline relaxed atomic
// load, so a disabled call costs a load and a compare and allocates nothing.
class CROSSCUT_API LogEndpoint : public sdk::Logger {
 public:
  bool should_log(sdk::Level level) const noexcept final {
    return static_cast<std::uint8_t>(level) >= level_.load(std::memory_order_relaxed);
  }
  sdk::Level level() const noexcept { return static_cast<sdk::Level>(level_.load()); }
  void set_level(sdk::Level level) noexcept { level_.store(static_cast<std::uint8_t>(level)); }

  // The record gets "exception":{"type","message","nested":[...]} in `extra`.
  virtual void log_exception(sdk::Level level, std::string_view message, const std::exception& e,
                             sdk::Fields fields) noexcept = 0;
  // As above; a null pointer logs without the exception, a non-std exception as "unknown".
  virtual void log_exception(sdk::Level level, std::string_view message, std::exception_ptr e,
                             sdk::Fields fields) noexcept = 0;

 protected:
  explicit LogEndpoint(sdk::Level level) noexcept : level_(static_cast<std::uint8_t>(level)) {}

 private:
  std::atomic<std::uint8_t> level_;
};

// A cheap, copyable handle (one pointer). A default-constructed Logger discards everything.
// A handle must not be used after the engine that issued it is destroyed. Never throws.
class CROSSCUT_API Logger {
 public:
  Logger() noexcept = default;
  explicit Logger(LogEndpoint* endpoint) noexcept : ep_(endpoint) {}

  bool enabled(sdk::Level level) const noexcept { return ep_ && ep_->should_log(level); }

  void log(sdk::Level level, std::string_view message, sdk::Fields fields = {}) const noexcept {
    if (enabled(level)) ep_->log(level, message, fields);
  }
  void log(sdk::Level level, std::string_view message, const std::exception& e,
           sdk::Fields fields = {}) const noexcept {
    if (enabled(level)) ep_->log_exception(level, message, e, fields);
  }
  void log(sdk::Level level, std::string_view message, std::exception_ptr e,
           sdk::Fields fields = {}) const noexcept {
    if (enabled(level)) ep_->log_exception(level, message, std::move(e), fields);
  }

  void debug(std::string_view m, sdk::Fields f = {}) const noexcept {
    log(sdk::Level::debug, m, f);
  }
  void info(std::string_view m, sdk::Fields f = {}) const noexcept { log(sdk::Level::info, m, f); }
  void warning(std::string_view m, sdk::Fields f = {}) const noexcept {
    log(sdk::Level::warning, m, f);
  }
  void error(std::string_view m, sdk::Fields f = {}) const noexcept {
    log(sdk::Level::error, m, f);
  }
  void critical(std::string_view m, sdk::Fields f = {}) const noexcept {
    log(sdk::Level::critical, m, f);
  }

  void debug(std::string_view m, const std::exception& e, sdk::Fields f = {}) const noexcept {
    log(sdk::Level::debug, m, e, f);
  }
  void info(std::string_view m, const std::exception& e, sdk::Fields f = {}) const noexcept {
    log(sdk::Level::info, m, e, f);
  }
  void warning(std::string_view m, const std::exception& e, sdk::Fields f = {}) const noexcept {
    log(sdk::Level::warning, m, e, f);
  }
  void error(std::string_view m, const std::exception& e, sdk::Fields f = {}) const noexcept {
    log(sdk::Level::error, m, e, f);
  }
  void critical(std::string_view m, const std::exception& e, sdk::Fields f = {}) const noexcept {
    log(sdk::Level::critical, m, e, f);
  }
  void error(std::string_view m, std::exception_ptr e, sdk::Fields f = {}) const noexcept {
    log(sdk::Level::error, m, std::move(e), f);
  }
  void critical(std::string_view m, std::exception_ptr e, sdk::Fields f = {}) const noexcept {
    log(sdk::Level::critical, m, std::move(e), f);
  }

  // The same logger as the SDK interface (for code written against the SDK only).
  // Precondition: not default-constructed.
  sdk::Logger& sdk_logger() const noexcept { return *ep_; }

 private:
  LogEndpoint* ep_ = nullptr;
};

}  // namespace crosscut

// CROSSCUT_LOG(log, crosscut::sdk::Level::debug, "message", {{"key", value}}): the message and
// fields are evaluated only when the level is enabled, so a disabled call costs one load and
// one compare. A plain log.debug(...) builds its fields first (a few stores).
#define CROSSCUT_LOG(logger, level, ...)                             \
  do {                                                               \
    if ((logger).enabled(level)) (logger).log((level), __VA_ARGS__); \
  } while (false)
