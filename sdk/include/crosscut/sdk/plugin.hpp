// What a plugin exports: a descriptor listing its component factories, behind one entry point.
//
//   crosscut::sdk::PluginDescriptor describe() {
//     return {"my_rules", "1.2.0",
//             {crosscut::sdk::make_factory<MyRule>("my_rule", "Tags vendor errors")}};
//   }
//   CROSSCUT_PLUGIN(describe)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/component.hpp"
#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/options.hpp"

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

// Made by make_factory<T>(); a hand-built factory whose create() returns an object of another
// kind than `kind` is refused by the host when it builds the component.
struct ComponentFactory {
  ComponentKind kind = ComponentKind::log_sink;
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

// A component class that declares its options: `static const OptionTable<O>& options_table()`
// and a constructor from (const O&, HostContext&), or from (const O&, const ConfigView&,
// HostContext&) when it also reads keys the table leaves unbound or reports a semantic problem
// at an option's position.
template <class T>
concept BindsOptions = requires {
  T::options_table().schema();
};

template <class T>
using options_of =
    std::remove_cvref_t<decltype(T::options_table().read(std::declval<const ConfigView&>()))>;

// The factory of component class T: its kind comes from the SDK interface T implements, its
// schema from T's option table. A class that implements no SDK interface, or two, does not
// compile; nor does one that cannot be built from its options.
template <ComponentType T>
ComponentFactory make_factory(std::string type, std::string description) {
  ComponentFactory f;
  f.kind = kind_of<T>;
  f.type = std::move(type);
  f.description = std::move(description);
  if constexpr (BindsOptions<T>) {
    using O = options_of<T>;
    static_assert(std::is_constructible_v<T, const O&, HostContext&> ||
                      std::is_constructible_v<T, const O&, const ConfigView&, HostContext&>,
                  "a component with an option table is constructed from (const Options&, "
                  "HostContext&) or (const Options&, const ConfigView&, HostContext&)");
    f.schema = T::options_table().schema();
    f.create = [](const ConfigView& view, HostContext& host) -> std::unique_ptr<Component> {
      const O options = T::options_table().read(view);
      if constexpr (std::is_constructible_v<T, const O&, const ConfigView&, HostContext&>)
        return std::make_unique<T>(options, view, host);
      else
        return std::make_unique<T>(options, host);
    };
  } else {
    static_assert(std::is_constructible_v<T, HostContext&>,
                  "a component without options_table() is constructed from (HostContext&)");
    f.create = [](const ConfigView&, HostContext& host) -> std::unique_ptr<Component> {
      return std::make_unique<T>(host);
    };
  }
  return f;
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
