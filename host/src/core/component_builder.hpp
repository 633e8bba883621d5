// Builds components from configuration: finds the factory for `type`, checks the options
// against the factory's schema, and calls it.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/option_validator.hpp"
#include "core/owned_component.hpp"
#include "crosscut/runtime.hpp"
#include "crosscut/sdk/sdk.hpp"
#include "plugins/plugin_set.hpp"

namespace crosscut::core {

// What to build: the node holding `type` and the component's options, and how they sit in it.
struct BuildRequest {
  sdk::ConfigNode* node = nullptr;
  config::NodeLocation where{};
  std::string name{};  // the component's name in messages (a sink's key), or "" for its type
  // "": the options sit beside `type` in `node`; otherwise they are under this key
  // (e.g. handlers: {type, on, options}).
  std::string options_key{};
  std::vector<std::string> reserved{};  // other keys of `node` the host itself reads
  std::string type_override{};          // built when `node` has no `type` (declarative rules)
};

class ComponentBuilder {
 public:
  ComponentBuilder(const plugins::PluginSet& plugins, sdk::HostContext& host)
      : plugins_(plugins), host_(host) {}

  // Builds a component of interface T. The object the factory returns is checked to be a T:
  // a factory that lies about its kind is a startup error, never a bad cast.
  template <sdk::ComponentType T>
  OwnedComponent<T> build(const BuildRequest& request) {
    Resolved r = resolve(sdk::kind_of<T>, request);
    std::unique_ptr<sdk::Component> object = create(r, request.name);
    T* typed = dynamic_cast<T*>(object.get());
    if (!typed)
      throw StartupError(
          sdk::ConfigView(request.node, request.where.file, request.where.path).where() +
          ": the factory of type '" + r.type + "' made a component that is not a " +
          std::string(sdk::kind_name(sdk::kind_of<T>)));
    return OwnedComponent<T>(r.library, std::move(object), typed, r.type, request.name);
  }

  // Checks the options the way build() would, creating nothing (the factory's `check`).
  template <sdk::ComponentType T>
  void check(const BuildRequest& request) {
    check(resolve(sdk::kind_of<T>, request), request.name);
  }

  // Contacts the servers the options name (the factory's `probe`; none when it has none).
  template <sdk::ComponentType T>
  std::vector<sdk::ServerCheck> probe(const BuildRequest& request,
                                      std::chrono::milliseconds timeout) {
    return probe(resolve(sdk::kind_of<T>, request), request.name, timeout);
  }

 private:
  struct Resolved {
    const sdk::ComponentFactory* factory = nullptr;
    std::shared_ptr<void> library;
    std::string type;
    sdk::ConfigNode* options = nullptr;
    config::NodeLocation options_at;
  };

  Resolved resolve(sdk::ComponentKind kind, const BuildRequest& request);
  std::unique_ptr<sdk::Component> create(const Resolved& r, const std::string& name);
  void check(const Resolved& r, const std::string& name);
  std::vector<sdk::ServerCheck> probe(const Resolved& r, const std::string& name,
                                      std::chrono::milliseconds timeout);
  // Runs one call into the plugin: a ConfigError is copied (its code lives in the plugin),
  // anything else becomes StartupError "<where>: cannot <verb> <kind> '<name>': <what>".
  template <class F>
  auto call_plugin(const Resolved& r, const std::string& name, const char* verb, F&& f);

  const plugins::PluginSet& plugins_;
  sdk::HostContext& host_;
};

}  // namespace crosscut::core
