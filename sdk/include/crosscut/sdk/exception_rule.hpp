// Exception rules: how an error is classified and what is done about it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/component.hpp"
#include "crosscut/sdk/events.hpp"
#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/value.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

enum class Severity : std::uint8_t { debug, info, warning, error, critical };

constexpr std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::debug:
      return "debug";
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::error:
      return "error";
    case Severity::critical:
      return "critical";
  }
  return "error";
}

inline std::optional<Severity> parse_severity(std::string_view s) {
  for (auto v :
       {Severity::debug, Severity::info, Severity::warning, Severity::error, Severity::critical})
    if (severity_name(v) == s) return v;
  return std::nullopt;
}

// The log level an error of a severity is logged at: the same five names, in the same order.
constexpr Level level_of(Severity s) {
  static_assert(static_cast<int>(Severity::debug) == static_cast<int>(Level::debug) &&
                static_cast<int>(Severity::critical) == static_cast<int>(Level::critical));
  return static_cast<Level>(static_cast<std::uint8_t>(s));
}

enum class BreakerAction : std::uint8_t { trip, ignore };

// The normalised error a rule looks at. Borrowed for the duration of evaluate().
struct ErrorView {
  std::string_view kind;
  const ExceptionInfo& exception;
  const Target& target;
  const Value& context;
};

// What a matching rule decides. Unset members keep the dispatcher's defaults
// (kind kept, severity error, breaker trip, publish true, no suppression).
struct Decision {
  std::optional<std::string> kind;
  std::optional<Severity> severity;
  std::optional<BreakerAction> breaker;
  std::optional<bool> publish;
  std::optional<std::chrono::milliseconds> suppress_for;
};

// One rule of the ordered list under `errors.rules` (component kind `exception_rule`).
// Thread-safety: evaluate() is called concurrently from any thread; it must not block.
// Returning nullopt means "no match": the next rule is tried. An exception thrown from
// evaluate() is logged and counted and treated as no match.
class CROSSCUT_SDK_API ExceptionRule : public Component {
 public:
  static constexpr ComponentKind component_kind = ComponentKind::exception_rule;

  // The rule's name, published in the DTO's `rule` field.
  virtual std::string_view name() const = 0;
  virtual std::optional<Decision> evaluate(const ErrorView& error) const = 0;
};

CROSSCUT_SDK_END_NAMESPACE
