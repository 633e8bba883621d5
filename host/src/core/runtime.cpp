#include "crosscut/runtime.hpp"

#include <map>
#include <mutex>

#include "breaker/breaker_registry.hpp"
#include "config/config_printer.hpp"
#include "config/option_validator.hpp"
#include "config/suggestion.hpp"
#include "config/yaml_tree_loader.hpp"
#include "core/component_builder.hpp"
#include "core/host_schema.hpp"
#include "core/system_clock.hpp"
#include "logging/log_config.hpp"
#include "logging/log_engine.hpp"
#include "plugins/plugin_set.hpp"

namespace crosscut {

using config::NodeLocation;
using sdk::ConfigNode;

struct Runtime::Impl : sdk::HostContext {
  RuntimeOptions options;
  config::LoadedTree tree;
  core::SystemClock system_clock;
  const sdk::Clock* clock_source = nullptr;
  std::string service;

  // Declared before every component: destroyed after all of them.
  plugins::PluginSet plugins;

  // Serves loggers from the start (writing to stderr until start()); its sinks are components
  // declared after it, and stop() shuts it down before they are destroyed.
  std::unique_ptr<logging::LogEngine> log_engine;
  std::vector<core::OwnedComponent<sdk::LogSink>> log_sinks;

  std::vector<core::OwnedComponent<sdk::RecordSink>> record_sinks;
  core::OwnedComponent<sdk::BreakerBackend> breaker_backend;
  std::unique_ptr<BreakerRegistry> breakers;
  std::vector<core::OwnedComponent<sdk::ExceptionRule>> rules;
  std::vector<core::OwnedComponent<sdk::EventHandler>> handlers;
  std::vector<core::OwnedComponent<sdk::Input>> inputs;

  std::mutex metrics_mu;
  std::map<std::string, std::int64_t> metrics;
  bool shut_down = false;

  // sdk::HostContext
  sdk::Logger& logger(std::string_view name, std::string_view category) override {
    return log_engine->sdk_logger(name, category);
  }
  sdk::EventBus& bus() override { throw std::logic_error("the event bus is not available"); }
  const sdk::Clock& clock() const override { return *clock_source; }
  sdk::RecordSink* record_sink(std::string_view name) override {
    for (auto& s : record_sinks)
      if (s.name() == name) return s.get();
    return nullptr;
  }
  void report_error(sdk::ErrorEvent error) override {
    logger("crosscut", "errors")
        .error("error reported", {{"kind", error.kind}, {"resource", error.target.resource_key()}});
  }
  void add_metric(std::string_view name, std::int64_t delta) override {
    std::lock_guard lock(metrics_mu);
    metrics[std::string(name)] += delta;
  }
  std::string_view service_name() const override { return service; }

  NodeLocation at(const std::string& path) const { return {tree.file, path}; }
  ConfigNode& section(const std::string& key) {
    ConfigNode* n = tree.root.find(key);
    if (!n) {
      tree.root.entries.emplace_back(key, ConfigNode{});
      n = &tree.root.entries.back().second;
      n->mark = tree.root.mark;
    }
    return *n;
  }

  ~Impl() override { stop(std::chrono::seconds(10)); }

  void build();
  bool stop(std::chrono::milliseconds deadline);
  void start_logging();
  void build_log_sinks(core::ComponentBuilder& builder);
  void load_plugins();
  void build_sinks(core::ComponentBuilder& builder);
  void build_breakers(core::ComponentBuilder& builder);
  void build_rules(core::ComponentBuilder& builder);
  void build_handlers(core::ComponentBuilder& builder);
  void build_inputs(core::ComponentBuilder& builder);
};

namespace {

sdk::BreakerPolicy read_policy(const ConfigNode& node, const sdk::BreakerPolicy& base) {
  sdk::BreakerPolicy p = base;
  auto int_of = [&](const char* key, std::uint32_t& out) {
    if (const ConfigNode* n = node.find(key); n && n->kind == ConfigNode::Kind::scalar)
      out = static_cast<std::uint32_t>(*sdk::parse_int(n->scalar));
  };
  auto dur_of = [&](const char* key, std::chrono::milliseconds& out) {
    if (const ConfigNode* n = node.find(key); n && n->kind == ConfigNode::Kind::scalar)
      out = std::chrono::duration_cast<std::chrono::milliseconds>(*sdk::parse_duration(n->scalar));
  };
  int_of("failure_threshold", p.failure_threshold);
  int_of("success_threshold", p.success_threshold);
  int_of("half_open_max_calls", p.half_open_max_calls);
  dur_of("timeout", p.timeout);
  dur_of("sliding_window", p.sliding_window);
  return p;
}

}  // namespace

void Runtime::Impl::build() {
  config::validate_options(tree.root, core::host_schema(), at(""));
  if (const ConfigNode* v = tree.root.find("crosscut"); v && !v->is_default && v->scalar != "1")
    config::fail_at(*v, at("crosscut"),
                    "configuration schema version " + v->scalar +
                        " is not supported (this host reads version 1)");
  service = tree.root.find("service")->find("name")->scalar;

  start_logging();
  load_plugins();
  core::ComponentBuilder builder(plugins, *this);
  build_log_sinks(builder);
  for (auto& sink : log_sinks) log_engine->add_sink(sink.get());
  log_engine->start();
  build_sinks(builder);
  build_breakers(builder);
  build_rules(builder);
  build_handlers(builder);
  build_inputs(builder);
}

void Runtime::Impl::start_logging() {
  sdk::ConfigView view(tree.root.find("logging"), tree.file, "logging");
  log_engine =
      std::make_unique<logging::LogEngine>(logging::parse_log_options(view), *clock_source);
}

void Runtime::Impl::build_log_sinks(core::ComponentBuilder& builder) {
  ConfigNode* list = tree.root.find("logging")->find("sinks");
  if (!list || list->kind == ConfigNode::Kind::null) return;
  if (list->kind != ConfigNode::Kind::sequence)
    config::fail_at(*list, at("logging.sinks"),
                    "expected a list of log sinks, e.g. [{type: console}]");
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    NodeLocation where = at("logging.sinks[" + std::to_string(i) + "]");
    log_sinks.push_back(builder.build<sdk::LogSink>(list->items[i], where, ""));
  }
}

void Runtime::Impl::load_plugins() {
  const ConfigNode& section_node = *tree.root.find("plugins");
  sdk::ConfigView view(&section_node, tree.file, "plugins");
  auto search = plugins::plugin_search_path(options.plugin_paths, view.get_string_list("paths"));
  auto found = plugins::discover_plugins(search);
  bool check_permissions = view.get_bool("check_permissions", true);

  std::vector<plugins::PluginFile> to_load;
  const ConfigNode* load = section_node.find("load");
  if (load && load->kind == ConfigNode::Kind::sequence) {
    std::vector<std::string> names;
    for (const auto& f : found) names.push_back(f.name);
    for (std::size_t i = 0; i < load->items.size(); ++i) {
      const ConfigNode& item = load->items[i];
      auto it = std::find_if(found.begin(), found.end(),
                             [&](const auto& f) { return f.name == item.scalar; });
      if (it == found.end()) {
        std::string dirs;
        for (const auto& d : search) dirs += (dirs.empty() ? "" : ":") + d.string();
        config::fail_at(item, at("plugins.load[" + std::to_string(i) + "]"),
                        "unknown plugin '" + item.scalar + "'" +
                            config::did_you_mean(item.scalar, names) + " (searched " + dirs + ")");
      }
      to_load.push_back(*it);
    }
  } else {
    to_load = found;
  }
  for (const auto& f : to_load) {
    try {
      auto loaded = plugins::load_plugin(f.file, check_permissions);
      plugins.add(std::move(loaded));
    } catch (const plugins::PluginLoadError& e) {
      throw StartupError(e.what());
    }
  }
}

void Runtime::Impl::build_sinks(core::ComponentBuilder& builder) {
  ConfigNode& sinks = section("sinks");
  if (sinks.kind == ConfigNode::Kind::null) return;
  if (sinks.kind != ConfigNode::Kind::map)
    config::fail_at(sinks, at("sinks"),
                    "expected a map of named sinks, e.g. {console: {type: stdout}}");
  for (auto& [name, node] : sinks.entries)
    record_sinks.push_back(
        builder.build<sdk::RecordSink>(node, at(config::child_path("sinks", name)), name));
}

void Runtime::Impl::build_breakers(core::ComponentBuilder& builder) {
  ConfigNode& breakers_node = *tree.root.find("breakers");
  ConfigNode* backend = breakers_node.find("backend");
  if (!backend || backend->kind == ConfigNode::Kind::null) {
    ConfigNode def;
    def.kind = ConfigNode::Kind::map;
    def.mark = breakers_node.mark;
    def.is_default = true;
    ConfigNode type;
    type.kind = ConfigNode::Kind::scalar;
    type.scalar = "memory";
    type.mark = def.mark;
    type.is_default = true;
    def.entries.emplace_back("type", std::move(type));
    if (backend)
      *backend = std::move(def);
    else
      breakers_node.entries.emplace_back("backend", std::move(def));
    backend = breakers_node.find("backend");
  }
  const ConfigNode& defaults_node = *breakers_node.find("defaults");
  sdk::BreakerPolicy defaults = read_policy(defaults_node, {});
  if (auto problem = sdk::check_policy(defaults))
    config::fail_at(defaults_node, at("breakers.defaults"), *problem);

  std::map<std::string, sdk::BreakerPolicy> overrides;
  if (ConfigNode* ov = breakers_node.find("overrides"); ov && ov->kind != ConfigNode::Kind::null) {
    if (ov->kind != ConfigNode::Kind::map)
      config::fail_at(*ov, at("breakers.overrides"), "expected a map of resource keys to policies");
    for (auto& [key, node] : ov->entries) {
      NodeLocation where = at("breakers.overrides." + key);
      config::validate_options(node, core::breaker_policy_schema(false), where);
      sdk::BreakerPolicy p = read_policy(node, defaults);
      if (auto problem = sdk::check_policy(p)) config::fail_at(node, where, *problem);
      overrides.emplace(key, p);
    }
  }
  breaker_backend =
      builder.build<sdk::BreakerBackend>(*backend, at("breakers.backend"), "breakers");
  breakers = std::make_unique<BreakerRegistry>(*breaker_backend, defaults, std::move(overrides),
                                               logger("breaker", "app"), *clock_source, nullptr);
}

void Runtime::Impl::build_rules(core::ComponentBuilder& builder) {
  ConfigNode& errors = section("errors");
  if (errors.kind != ConfigNode::Kind::map) return;
  ConfigNode* list = errors.find("rules");
  if (!list || list->kind == ConfigNode::Kind::null) return;
  if (list->kind != ConfigNode::Kind::sequence)
    config::fail_at(*list, at("errors.rules"), "expected a list of rules");
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    ConfigNode& item = list->items[i];
    NodeLocation where = at("errors.rules[" + std::to_string(i) + "]");
    if (item.kind == ConfigNode::Kind::map && item.find("type"))
      rules.push_back(builder.build<sdk::ExceptionRule>(item, where, "", "options", {"name"}));
    else
      rules.push_back(builder.build<sdk::ExceptionRule>(item, where, "", {}, {}, "declarative"));
  }
}

void Runtime::Impl::build_handlers(core::ComponentBuilder& builder) {
  ConfigNode& list = section("handlers");
  if (list.kind == ConfigNode::Kind::null) return;
  if (list.kind != ConfigNode::Kind::sequence)
    config::fail_at(list, at("handlers"), "expected a list of handlers");
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    NodeLocation where = at("handlers[" + std::to_string(i) + "]");
    handlers.push_back(
        builder.build<sdk::EventHandler>(list.items[i], where, "", "options", {"on"}));
  }
}

void Runtime::Impl::build_inputs(core::ComponentBuilder& builder) {
  ConfigNode& list = section("inputs");
  if (list.kind == ConfigNode::Kind::null) return;
  if (list.kind != ConfigNode::Kind::sequence)
    config::fail_at(list, at("inputs"), "expected a list of inputs");
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    NodeLocation where = at("inputs[" + std::to_string(i) + "]");
    if (options.build_inputs)
      inputs.push_back(builder.build<sdk::Input>(list.items[i], where, ""));
    else
      builder.check(sdk::ComponentKind::input, list.items[i], where);
  }
}

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runtime::~Runtime() {
  shutdown();
}

std::unique_ptr<Runtime> Runtime::from_file(const std::string& path, RuntimeOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->tree = config::load_yaml_file(path);
  impl->options = std::move(options);
  impl->clock_source = impl->options.clock ? impl->options.clock : &impl->system_clock;
  impl->build();
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

std::unique_ptr<Runtime> Runtime::from_string(std::string_view yaml, const std::string& name,
                                              RuntimeOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->tree = config::parse_yaml_tree(yaml, name);
  impl->options = std::move(options);
  impl->clock_source = impl->options.clock ? impl->options.clock : &impl->system_clock;
  impl->build();
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

Breaker Runtime::breaker(std::string_view resource_key) {
  return impl_->breakers->breaker(resource_key);
}

Logger Runtime::logger(std::string_view name, std::string_view category) {
  return impl_->log_engine->logger(name, category);
}

void Runtime::reopen_logs() {
  impl_->log_engine->reopen();
}

std::vector<std::string> Runtime::breaker_keys() {
  return impl_->breaker_backend->keys();
}

sdk::RecordSink* Runtime::record_sink(std::string_view name) {
  return impl_->record_sink(name);
}

sdk::HostContext& Runtime::host() {
  return *impl_;
}

const sdk::Clock& Runtime::clock() const {
  return *impl_->clock_source;
}

std::string Runtime::effective_config() const {
  return config::print_yaml(impl_->tree.root);
}

std::vector<LoadedPluginInfo> Runtime::plugins() const {
  std::vector<LoadedPluginInfo> out;
  for (const auto& p : impl_->plugins.plugins())
    out.push_back({p.name, p.version, p.file.string(), p.descriptor});
  return out;
}

bool Runtime::shutdown(std::chrono::milliseconds deadline) {
  return impl_->stop(deadline);
}

bool Runtime::Impl::stop(std::chrono::milliseconds deadline) {
  if (shut_down) return true;
  shut_down = true;
  auto until = std::chrono::steady_clock::now() + deadline;
  bool ok = true;
  inputs.clear();
  handlers.clear();
  rules.clear();
  for (auto& s : record_sinks) ok = s->flush(until) && ok;
  breakers.reset();
  breaker_backend = {};
  // Reverse order of construction: later sinks may publish through earlier ones.
  while (!record_sinks.empty()) record_sinks.pop_back();
  // Logging goes last: everything above may still log. After this, records go to stderr.
  if (log_engine) log_engine->shutdown();
  log_sinks.clear();
  return ok;
}

}  // namespace crosscut
