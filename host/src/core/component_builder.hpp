// Builds components from configuration: finds the factory for `type`, checks the options
// against the factory's schema, and calls it.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "config/option_validator.hpp"
#include "core/owned_component.hpp"
#include "crosscut/runtime.hpp"
#include "crosscut/sdk/sdk.hpp"
#include "plugins/plugin_set.hpp"

namespace crosscut::core {

template <class T>
constexpr sdk::ComponentKind kind_of();
template <>
constexpr sdk::ComponentKind kind_of<sdk::LogSink>() {
  return sdk::ComponentKind::log_sink;
}
template <>
constexpr sdk::ComponentKind kind_of<sdk::RecordSink>() {
  return sdk::ComponentKind::record_sink;
}
template <>
constexpr sdk::ComponentKind kind_of<sdk::BreakerBackend>() {
  return sdk::ComponentKind::breaker_backend;
}
template <>
constexpr sdk::ComponentKind kind_of<sdk::ExceptionRule>() {
  return sdk::ComponentKind::exception_rule;
}
template <>
constexpr sdk::ComponentKind kind_of<sdk::EventHandler>() {
  return sdk::ComponentKind::event_handler;
}
template <>
constexpr sdk::ComponentKind kind_of<sdk::Input>() {
  return sdk::ComponentKind::input;
}

class ComponentBuilder {
 public:
  ComponentBuilder(const plugins::PluginSet& plugins, sdk::HostContext& host)
      : plugins_(plugins), host_(host) {}

  // `node` holds `type` and the options side by side (`options_key` empty), or `type` plus the
  // options under `options_key` (e.g. handlers: {type, on, options}). `reserved` lists other
  // keys the host reads from the same map. `type_override` builds that type when the map has
  // no `type` (declarative rules).
  template <class T>
  OwnedComponent<T> build(sdk::ConfigNode& node, const config::NodeLocation& where,
                          const std::string& name, const std::string& options_key = {},
                          std::vector<std::string> reserved = {},
                          const std::string& type_override = {}) {
    Resolved r =
        resolve(kind_of<T>(), node, where, options_key, std::move(reserved), type_override);
    return OwnedComponent<T>(r.library, create(r, name), r.type, name);
  }

  // Checks the options without creating anything (used by `validate` for inputs).
  void check(sdk::ComponentKind kind, sdk::ConfigNode& node, const config::NodeLocation& where,
             const std::string& options_key = {}, std::vector<std::string> reserved = {},
             const std::string& type_override = {}) {
    resolve(kind, node, where, options_key, std::move(reserved), type_override);
  }

 private:
  struct Resolved {
    const sdk::ComponentFactory* factory = nullptr;
    std::shared_ptr<void> library;
    std::string type;
    sdk::ConfigNode* options = nullptr;
    config::NodeLocation options_at;
  };

  Resolved resolve(sdk::ComponentKind kind, sdk::ConfigNode& node,
                   const config::NodeLocation& where, const std::string& options_key,
                   std::vector<std::string> reserved, const std::string& type_override);
  std::unique_ptr<sdk::Component> create(const Resolved& r, const std::string& name);

  const plugins::PluginSet& plugins_;
  sdk::HostContext& host_;
};

}  // namespace crosscut::core
