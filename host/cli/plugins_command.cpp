#include <cstdio>

#include "cli_support.hpp"
#include "commands.hpp"
#include "crosscut/plugin_catalog.hpp"
#include "crosscut/sdk/sdk.hpp"

namespace crosscut::cli {
namespace {

struct PluginsArgs {
  std::string config;
  std::vector<std::string> paths;
  std::string describe;
};

std::string type_name(sdk::OptionType t) {
  switch (t) {
    case sdk::OptionType::string:
      return "string";
    case sdk::OptionType::boolean:
      return "bool";
    case sdk::OptionType::integer:
      return "integer";
    case sdk::OptionType::number:
      return "number";
    case sdk::OptionType::duration:
      return "duration";
    case sdk::OptionType::size:
      return "size";
    case sdk::OptionType::string_list:
      return "list";
    case sdk::OptionType::string_map:
      return "map";
    case sdk::OptionType::object:
      return "object";
    case sdk::OptionType::object_list:
      return "list of objects";
    case sdk::OptionType::any:
      return "any";
  }
  return "?";
}

void describe_options(const sdk::ConfigSchema& schema, const std::string& indent) {
  for (const auto& o : schema) {
    std::string extra;
    if (o.required) extra += " required";
    if (!o.default_value.empty()) extra += " default=" + o.default_value;
    if (!o.choices.empty()) {
      std::string list;
      for (const auto& c : o.choices) list += (list.empty() ? "" : "|") + c;
      extra += " one of " + list;
    }
    if (o.secret) extra += " secret";
    std::printf("%s%-22s %-9s %s%s%s\n", indent.c_str(), o.key.c_str(), type_name(o.type).c_str(),
                o.description.c_str(), extra.empty() ? "" : "  [",
                extra.empty() ? "" : (extra.substr(1) + "]").c_str());
    if (!o.children.empty()) describe_options(o.children, indent + "  ");
  }
}

int list_plugins(const PluginsArgs& args) {
  const PluginCatalog catalog = PluginCatalog::load(args.config, args.paths);
  for (const auto& e : catalog.errors()) print_error(e);
  const int failures = static_cast<int>(catalog.errors().size());
  bool described = false;
  for (const auto& p : catalog.plugins()) {
    if (args.describe.empty()) {
      std::printf("%s %s (SDK ABI %d) %s\n", p.name.c_str(), p.version.c_str(),
                  CROSSCUT_SDK_ABI_VERSION, p.file.c_str());
      for (const auto& c : p.descriptor->components)
        std::printf("  %s/%s  %s\n", std::string(sdk::kind_name(c.kind)).c_str(), c.type.c_str(),
                    c.description.c_str());
      continue;
    }
    for (const auto& c : p.descriptor->components) {
      if (c.type != args.describe) continue;
      described = true;
      std::printf("%s/%s (plugin %s %s): %s\n", std::string(sdk::kind_name(c.kind)).c_str(),
                  c.type.c_str(), p.name.c_str(), p.version.c_str(), c.description.c_str());
      if (c.schema.empty()) std::printf("  (no options)\n");
      describe_options(c.schema, "  ");
    }
  }
  if (catalog.plugins().empty() && failures == 0) {
    std::string dirs;
    for (const auto& d : catalog.searched()) dirs += (dirs.empty() ? "" : ":") + d;
    print_error("no plugins found (searched " + dirs + ")");
    return kExitFailure;
  }
  if (!args.describe.empty() && !described) {
    print_error("no loaded plugin provides a component of type '" + args.describe + "'");
    return kExitUsage;
  }
  return failures == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void add_plugins_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PluginsArgs>();
  auto* cmd =
      app.add_subcommand("plugins", "List the plugins found: name, version, SDK ABI, components");
  cmd->add_option("-c,--config", args->config,
                  "Configuration file (its plugins.paths and plugins.load apply)");
  cmd->add_option("--path", args->paths,
                  "Also search this folder (repeatable; before plugins.paths)");
  cmd->add_option("--describe", args->describe, "Print the options of the component TYPE");
  cmd->callback(
      [args, &exit_code] { exit_code = run_guarded([&] { return list_plugins(*args); }); });
}

}  // namespace crosscut::cli
