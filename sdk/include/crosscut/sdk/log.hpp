// Logging as seen through the SDK: levels, call-site fields, the Logger a component is given,
// and the LogSink interface that log sink plugins implement.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/component.hpp"
#include "crosscut/sdk/value.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

enum class Level : std::uint8_t { debug = 0, info, warning, error, critical, off };

constexpr std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "DEBUG";
    case Level::info:
      return "INFO";
    case Level::warning:
      return "WARNING";
    case Level::error:
      return "ERROR";
    case Level::critical:
      return "CRITICAL";
    case Level::off:
      return "OFF";
  }
  return "UNKNOWN";
}

// Accepts the config spellings: debug, info, warning (or warn), error, critical, off.
inline std::optional<Level> parse_level(std::string_view s) {
  if (s == "debug") return Level::debug;
  if (s == "info") return Level::info;
  if (s == "warning" || s == "warn") return Level::warning;
  if (s == "error") return Level::error;
  if (s == "critical") return Level::critical;
  if (s == "off") return Level::off;
  return std::nullopt;
}

// A field value at a log call site. It borrows: strings and nested Values must outlive the
// call (temporaries in the call expression do). Building one never allocates.
class FieldValue {
 public:
  FieldValue(std::nullptr_t) {}
  FieldValue(bool b) : v_(b) {}
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool> &&
                                          !std::is_same_v<I, char>,
                                      int> = 0>
  FieldValue(I i) : v_(static_cast<std::int64_t>(i)) {}
  FieldValue(double d) : v_(d) {}
  FieldValue(float d) : v_(static_cast<double>(d)) {}
  FieldValue(const char* s) : v_(std::string_view(s)) {}
  FieldValue(std::string_view s) : v_(s) {}
  FieldValue(const std::string& s) : v_(std::string_view(s)) {}
  FieldValue(const Value& v) : v_(&v) {}

  using Variant =
      std::variant<std::monostate, bool, std::int64_t, double, std::string_view, const Value*>;
  const Variant& get() const { return v_; }

 private:
  Variant v_;
};

struct Field {
  std::string_view key;
  FieldValue value;
};

using Fields = std::initializer_list<Field>;

// A named logger. Thread-safe: any thread may log. log() must not throw; a record that cannot
// be written is counted by the host, never propagated to the caller.
class CROSSCUT_SDK_API Logger {
 public:
  virtual ~Logger() = default;
  virtual bool should_log(Level level) const noexcept = 0;
  virtual void log(Level level, std::string_view message, Fields fields) noexcept = 0;

  void debug(std::string_view m, Fields f = {}) noexcept { emit(Level::debug, m, f); }
  void info(std::string_view m, Fields f = {}) noexcept { emit(Level::info, m, f); }
  void warning(std::string_view m, Fields f = {}) noexcept { emit(Level::warning, m, f); }
  void error(std::string_view m, Fields f = {}) noexcept { emit(Level::error, m, f); }
  void critical(std::string_view m, Fields f = {}) noexcept { emit(Level::critical, m, f); }

 private:
  void emit(Level l, std::string_view m, Fields f) noexcept {
    if (should_log(l)) log(l, m, f);
  }
};

// One finished log record, as handed to sinks. `json` is the record already rendered as one
// JSON line (no trailing newline), PII-masked; the other members are the same record's parts
// for sinks that render their own format. Everything is borrowed for the duration of write().
struct LogRecord {
  std::chrono::system_clock::time_point timestamp;
  Level level = Level::info;
  std::string_view logger;
  std::string_view category;
  std::string_view message;
  const Value* extra = nullptr;  // an object, or null when there are no fields
  std::string_view json;
};

// A log destination (component kind `log_sink`). The host calls write/flush/reopen from its
// single logging thread, never concurrently. write() must not throw: a sink that cannot
// write (disk full, closed pipe) reports the failure on stderr and counts it.
class CROSSCUT_SDK_API LogSink : public Component {
 public:
  static constexpr ComponentKind component_kind = ComponentKind::log_sink;

  virtual void write(const LogRecord& record) noexcept = 0;
  virtual void flush() noexcept = 0;
  // Reopen files (SIGHUP after an external rotation). Sinks without files ignore it.
  virtual void reopen() noexcept {}
  // Records this sink failed to write since it was created.
  virtual std::uint64_t failures() const noexcept { return 0; }
};

CROSSCUT_SDK_END_NAMESPACE
