// What a plugin exports: a descriptor listing its component factories, behind one entry point.
//
//   crosscut::sdk::PluginDescriptor describe() {
//     return {"my_rules", "1.2.0",
//             {crosscut::sdk::make_factory<MyRule>(crosscut::sdk::ComponentKind::exception_rule,
//                                                  "my_rule", "Tags vendor errors", schema)}};
//   }
//   CROSSCUT_PLUGIN(describe)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/component.hpp"
#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/host_context.hpp"

// The C header of every plugin: fixed layout, readable before any C++ type is touched, so the
// host can refuse a plugin built against another SDK ABI or compiler ABI safely.
extern "C" {
struct crosscut_plugin_info {
  std::uint32_t sdk_abi_version;
  const char* compiler_abi;  // CROSSCUT_SDK_COMPILER_ABI of the plugin's build
  const char* name;
  const char* version;
  const void* descriptor;  // const crosscut::sdk::vN::PluginDescriptor*, N = sdk_abi_version
};
}

// The exported symbol the host looks for.
#define CROSSCUT_PLUGIN_ENTRY_SYMBOL "crosscut_plugin_entry"

CROSSCUT_SDK_BEGIN_NAMESPACE

// Builds one component from its (already schema-checked) options. Throws ConfigError (via
// ConfigView::fail) for a semantic problem in the options, or any std::exception for a
// failure to start; the host reports either as one line and does not start.
using ComponentCreate =
    std::function<std::unique_ptr<Component>(const ConfigView& options, HostContext& host)>;

struct ComponentFactory {
  ComponentKind kind;
  std::string type;         // the `type:` users write in YAML
  std::string description;  // one line
  ConfigSchema schema;
  ComponentCreate create;
};

struct PluginDescriptor {
  std::string name;
  std::string version;
  std::vector<ComponentFactory> components;
};

// A factory for a component class constructible from (const ConfigView&, HostContext&).
template <class T>
ComponentFactory make_factory(ComponentKind kind, std::string type, std::string description,
                              ConfigSchema schema) {
  return ComponentFactory{
      kind, std::move(type), std::move(description), std::move(schema),
      [](const ConfigView& options, HostContext& host) -> std::unique_ptr<Component> {
        return std::make_unique<T>(options, host);
      }};
}

CROSSCUT_SDK_END_NAMESPACE

// Defines the plugin's entry point from a function returning its PluginDescriptor.
// Use once per plugin, at namespace scope.
#define CROSSCUT_PLUGIN(describe_fn)                                                              \
  extern "C" __attribute__((visibility("default"))) const ::crosscut_plugin_info*                 \
  crosscut_plugin_entry() {                                                                       \
    static const ::crosscut::sdk::PluginDescriptor descriptor = describe_fn();                    \
    static const ::crosscut_plugin_info info{CROSSCUT_SDK_ABI_VERSION, CROSSCUT_SDK_COMPILER_ABI, \
                                             descriptor.name.c_str(), descriptor.version.c_str(), \
                                             &descriptor};                                        \
    return &info;                                                                                 \
  }
