// The base of every component a plugin provides, and the kinds a component can be.
#pragma once

#include <concepts>
#include <optional>
#include <string_view>

#include "crosscut/sdk/abi.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

enum class ComponentKind {
  log_sink,
  record_sink,
  breaker_backend,
  exception_rule,
  event_handler,
  input
};

constexpr std::string_view kind_name(ComponentKind k) {
  switch (k) {
    case ComponentKind::log_sink:
      return "log_sink";
    case ComponentKind::record_sink:
      return "record_sink";
    case ComponentKind::breaker_backend:
      return "breaker_backend";
    case ComponentKind::exception_rule:
      return "exception_rule";
    case ComponentKind::event_handler:
      return "event_handler";
    case ComponentKind::input:
      return "input";
  }
  return "unknown";
}

inline std::optional<ComponentKind> parse_kind(std::string_view s) {
  for (auto k :
       {ComponentKind::log_sink, ComponentKind::record_sink, ComponentKind::breaker_backend,
        ComponentKind::exception_rule, ComponentKind::event_handler, ComponentKind::input})
    if (kind_name(k) == s) return k;
  return std::nullopt;
}

// Components are created by a plugin's factory and destroyed by the host (through this
// virtual destructor, so the plugin's own code frees them) before the plugin is unloaded.
class CROSSCUT_SDK_API Component {
 public:
  Component() = default;
  Component(const Component&) = delete;
  Component& operator=(const Component&) = delete;
  virtual ~Component() = default;
};

// A class that implements exactly one SDK component interface: each interface names its kind
// in `component_kind`, so a class deriving from none, or from two, does not satisfy this.
template <class T>
concept ComponentType = std::derived_from<T, Component> && requires {
  { T::component_kind } -> std::convertible_to<ComponentKind>;
};

// The kind of a component class, from the interface it implements.
template <ComponentType T>
inline constexpr ComponentKind kind_of = T::component_kind;

CROSSCUT_SDK_END_NAMESPACE
