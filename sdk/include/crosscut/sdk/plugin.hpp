// What a plugin exports: a descriptor listing its component factories, behind one entry point.
//
//   crosscut::sdk::PluginDescriptor describe() {
//     return {"my_rules", "1.2.0",
//             {crosscut::sdk::make_factory<MyRule>("my_rule", "Tags vendor errors")}};
//   }
//   CROSSCUT_PLUGIN(describe)
#pragma once

#include <chrono>
#include <concepts>
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

// Checks the (already schema-checked) options the way create() would, without creating
// anything: no file is opened, no server contacted, no thread started (`crosscut validate`).
// Throws ConfigError (via ConfigView::fail) for the same problems create() reports as
// ConfigError. `host` answers lookups (a record sink by name) but its sinks are not running.
using ComponentCheck = std::function<void(const ConfigView& options, HostContext& host)>;

// What contacting one server the options name found (`crosscut validate --check-connections`).
struct ServerCheck {
  std::string server;  // as configured, e.g. "redis://10.0.0.5:6379" or "kafka-1:9092"
  bool reachable = false;
  std::string detail;  // one line: "PONG in 2 ms", "connection refused"
};

// Contacts every server the options name, within about `timeout`, and says what it found;
// creates nothing that outlives the call. Throws only for a problem with the options.
using ComponentProbe = std::function<std::vector<ServerCheck>(
    const ConfigView& options, HostContext& host, std::chrono::milliseconds timeout)>;

// Made by make_factory<T>(); a hand-built factory whose create() returns an object of another
// kind than `kind` is refused by the host when it builds the component.
struct ComponentFactory {
  ComponentKind kind = ComponentKind::log_sink;
  std::string type;         // the `type:` users write in YAML
  std::string description;  // one line
  ConfigSchema schema;
  ComponentCreate create;
  ComponentCheck check;  // null: the schema is all there is to check
  ComponentProbe probe;  // null: the component names no server
};

struct PluginDescriptor {
  std::string name;
  std::string version;
  std::vector<ComponentFactory> components;
};

// A component class that declares its options: `static const OptionTable<O>& options_table()`
// and a constructor from (const O&, HostContext&), or from (const O&, const ConfigView&,
// HostContext&) when it also reads keys the table leaves unbound.
//
// What the table cannot express (a semantic problem reported at an option's position) goes in
// `static void check_options(const O&, const ConfigView&)`, or `(const O&, const ConfigView&,
// HostContext&)` when it looks something up (a record sink by name): the factory calls it
// before the constructor and on its own for `validate`, so both refuse the same things.
// A class whose options name servers may add `static std::vector<ServerCheck>
// probe_servers(const O&, const ConfigView&, HostContext&, std::chrono::milliseconds timeout)`.
template <class T>
concept BindsOptions = requires {
  T::options_table().schema();
};

template <class T>
using options_of =
    std::remove_cvref_t<decltype(T::options_table().read(std::declval<const ConfigView&>()))>;

template <class T, class O>
concept ChecksOptionsWithHost = requires(const O& o, const ConfigView& v, HostContext& h) {
  T::check_options(o, v, h);
};
template <class T, class O>
concept ChecksOptions = requires(const O& o, const ConfigView& v) {
  T::check_options(o, v);
};

// Runs T's check_options, whichever form it has (none: nothing to run).
template <class T, class O>
void check_options_of(const O& options, const ConfigView& view, HostContext& host) {
  if constexpr (ChecksOptionsWithHost<T, O>)
    T::check_options(options, view, host);
  else if constexpr (ChecksOptions<T, O>)
    T::check_options(options, view);
}

template <class T, class O>
concept ProbesServers = requires(const O& o, const ConfigView& v, HostContext& h,
                                 std::chrono::milliseconds t) {
  { T::probe_servers(o, v, h, t) } -> std::convertible_to<std::vector<ServerCheck>>;
};

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
    f.check = [](const ConfigView& view, HostContext& host) {
      check_options_of<T>(T::options_table().read(view), view, host);
    };
    if constexpr (ProbesServers<T, O>)
      f.probe = [](const ConfigView& view, HostContext& host, std::chrono::milliseconds timeout) {
        return T::probe_servers(T::options_table().read(view), view, host, timeout);
      };
    f.create = [](const ConfigView& view, HostContext& host) -> std::unique_ptr<Component> {
      const O options = T::options_table().read(view);
      check_options_of<T>(options, view, host);
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
