#include "core/component_builder.hpp"

#include "config/suggestion.hpp"

namespace crosscut::core {

ComponentBuilder::Resolved ComponentBuilder::resolve(sdk::ComponentKind kind,
                                                     const BuildRequest& request) {
  sdk::ConfigNode& node = *request.node;
  const config::NodeLocation& where = request.where;
  const std::string& options_key = request.options_key;
  std::vector<std::string> reserved = request.reserved;
  if (node.kind != sdk::ConfigNode::Kind::map)
    config::fail_at(node, where, "expected a map with a 'type'");
  std::string type = request.type_override;
  sdk::ConfigNode* type_node = node.find("type");
  if (type_node && type_node->kind != sdk::ConfigNode::Kind::null) {
    if (type_node->kind != sdk::ConfigNode::Kind::scalar)
      config::fail_at(*type_node, {where.file, config::child_path(where.path, "type")},
                      "expected a type name");
    type = type_node->scalar;
  } else if (type.empty()) {
    config::fail_at(node, where,
                    "missing 'type' (which " + std::string(sdk::kind_name(kind)) + " to build)");
  }

  auto ref = plugins_.find(kind, type);
  if (!ref) {
    const sdk::ConfigNode& at = type_node ? *type_node : node;
    auto known = plugins_.types(kind);
    std::string hint = config::did_you_mean(type, known);
    if (hint.empty()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      hint = list.empty()
                 ? " (no loaded plugin provides any; check plugins.load and the plugin path)"
                 : " (known: " + list + ")";
    }
    config::fail_at(at, {where.file, config::child_path(where.path, "type")},
                    "unknown " + std::string(sdk::kind_name(kind)) + " type '" + type + "'" + hint);
  }

  Resolved r;
  r.factory = ref->factory;
  r.library = ref->plugin->library;
  r.type = type;
  reserved.push_back("type");
  if (options_key.empty()) {
    config::validate_options(node, r.factory->schema, where, reserved);
    r.options = &node;
    r.options_at = where;
  } else {
    // The host's own keys around `options` must be known too.
    reserved.push_back(options_key);
    for (auto& [key, value] : node.entries) {
      bool ok = false;
      for (const auto& k : reserved) ok = ok || k == key;
      if (!ok)
        config::fail_at_key(value, node, {where.file, config::child_path(where.path, key)},
                            "unknown key '" + key + "'" + config::did_you_mean(key, reserved));
    }
    sdk::ConfigNode* opts = node.find(options_key);
    if (!opts) {
      node.entries.emplace_back(options_key, sdk::ConfigNode{});
      opts = &node.entries.back().second;
      opts->mark = node.mark;
    }
    r.options_at = {where.file, config::child_path(where.path, options_key)};
    config::validate_options(*opts, r.factory->schema, r.options_at);
    r.options = opts;
  }
  return r;
}

template <class F>
auto ComponentBuilder::call_plugin(const Resolved& r, const std::string& name, const char* verb,
                                   F&& f) {
  const sdk::ConfigView view(r.options, r.options_at.file, r.options_at.path);
  auto failed = [&](const std::string& what) {
    return StartupError(view.where() + ": cannot " + verb + " " +
                        std::string(sdk::kind_name(r.factory->kind)) + " '" +
                        (name.empty() ? r.type : name) + "': " + what);
  };
  try {
    return f(view);
  } catch (const sdk::ConfigError& e) {
    // Rethrow a copy made here: the caught object's code lives in the plugin, which is
    // unloaded while this exception unwinds the runtime under construction.
    throw sdk::ConfigError(std::string(e.what()));
  } catch (const std::exception& e) {
    throw failed(e.what());
  } catch (...) {
    throw failed("unknown exception");
  }
}

std::unique_ptr<sdk::Component> ComponentBuilder::create(const Resolved& r,
                                                         const std::string& name) {
  auto c = call_plugin(r, name, "start",
                       [&](const sdk::ConfigView& view) { return r.factory->create(view, host_); });
  if (!c)
    throw StartupError(sdk::ConfigView(r.options, r.options_at.file, r.options_at.path).where() +
                       ": the factory of type '" + r.type + "' returned nothing");
  return c;
}

void ComponentBuilder::check(const Resolved& r, const std::string& name) {
  if (!r.factory->check) return;
  call_plugin(r, name, "check",
              [&](const sdk::ConfigView& view) { r.factory->check(view, host_); });
}

std::vector<sdk::ServerCheck> ComponentBuilder::probe(const Resolved& r, const std::string& name,
                                                      std::chrono::milliseconds timeout) {
  if (!r.factory->probe) return {};
  return call_plugin(r, name, "check the servers of", [&](const sdk::ConfigView& view) {
    return r.factory->probe(view, host_, timeout);
  });
}

}  // namespace crosscut::core
