#include "crosscut/runtime.hpp"

#include <map>
#include <mutex>

#include <atomic>
#include <condition_variable>
#include <shared_mutex>
#include <thread>

#include "agent/agent_options.hpp"
#include "agent/market_data_mapping.hpp"
#include "breaker/breaker_registry.hpp"
#include "bus/handler_binding.hpp"
#include "config/config_printer.hpp"
#include "config/option_validator.hpp"
#include "config/suggestion.hpp"
#include "config/yaml_tree_loader.hpp"
#include "core/component_builder.hpp"
#include "core/host_schema.hpp"
#include "core/system_clock.hpp"
#include "crosscut/bus.hpp"
#include "crosscut/counter.hpp"
#include "crosscut/errors.hpp"
#include "logging/log_config.hpp"
#include "logging/log_engine.hpp"
#include "metrics/metrics_options.hpp"
#include "metrics/metrics_service.hpp"
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

  std::unique_ptr<AsyncEventBus> event_bus;
  std::vector<core::OwnedComponent<sdk::RecordSink>> record_sinks;
  core::OwnedComponent<sdk::BreakerBackend> breaker_backend;
  std::unique_ptr<BreakerRegistry> breakers;
  std::vector<core::OwnedComponent<sdk::ExceptionRule>> rules;
  std::unique_ptr<ErrorDispatcher> dispatcher;
  std::mutex early_errors_mu;
  bool dispatcher_ready = false;
  std::atomic<bool> dispatcher_gone{false};
  std::shared_mutex dispatcher_mu;
  std::vector<sdk::ErrorEvent> early_errors;
  CoarseSystemClock counter_clock;
  std::unique_ptr<metrics::MetricsService> metrics;
  EventNames event_names;  // outlives the handler subscriptions that keep views into it
  std::vector<core::OwnedComponent<sdk::EventHandler>> handlers;
  std::vector<sdk::Subscription> handler_subscriptions;
  std::vector<core::OwnedComponent<sdk::Input>> inputs;
  std::vector<const ConfigNode*> input_items;

  // Housekeeping: publishes duplicates whose suppression period ended, once a second.
  std::mutex housekeeping_mu;
  std::condition_variable housekeeping_cv;
  bool housekeeping_stop = false;
  std::thread housekeeping;

  std::mutex host_metrics_mu;
  std::map<std::string, std::int64_t>
      host_metrics;  // HostContext::add_metric, for the health record
  bool shut_down = false;

  // sdk::HostContext
  sdk::Logger& logger(std::string_view name, std::string_view category) override {
    return log_engine->sdk_logger(name, category);
  }
  sdk::EventBus& bus() override { return *event_bus; }
  const sdk::Clock& clock() const override { return *clock_source; }
  sdk::RecordSink* record_sink(std::string_view name) override {
    for (auto& s : record_sinks)
      if (s.name() == name) return s.get();
    return nullptr;
  }
  void report_error(sdk::ErrorEvent error) override {
    {
      // Components built before the dispatcher (sinks, the breaker backend) may report at
      // startup (e.g. Redis unreachable): keep those and dispatch them once it exists.
      std::lock_guard lock(early_errors_mu);
      if (!dispatcher_ready && !dispatcher_gone) {
        early_errors.push_back(std::move(error));
        return;
      }
    }
    std::shared_lock use(dispatcher_mu);  // stop() resets the dispatcher under the unique lock
    if (dispatcher_gone) {
      logger("errors", "app")
          .error("error reported during shutdown (not dispatched)",
                 {{"kind", error.kind}, {"message", error.info.message}});
      return;
    }
    dispatcher->dispatch(std::move(error));
  }
  void add_metric(std::string_view name, std::int64_t delta) override {
    std::lock_guard lock(host_metrics_mu);
    host_metrics[std::string(name)] += delta;
  }
  std::string_view service_name() const override { return service; }

  NodeLocation at(const std::string& path) const { return {tree.file, path}; }
  bool options_clock_given() const { return options.clock != nullptr; }
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
  void build_dispatcher();
  void build_metrics();
  sdk::RecordSink* named_sink(const std::string& section);
  void build_handlers(core::ComponentBuilder& builder);
  void build_inputs(core::ComponentBuilder& builder);
  void check_input_host_keys(ConfigNode& item, const NodeLocation& where);
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
  event_bus = std::make_unique<AsyncEventBus>(
      parse_bus_options(sdk::ConfigView(tree.root.find("bus"), tree.file, "bus")),
      logger("bus", "app"));
  build_sinks(builder);
  build_breakers(builder);
  build_rules(builder);
  build_dispatcher();
  {
    std::vector<sdk::ErrorEvent> early;
    {
      std::lock_guard lock(early_errors_mu);
      dispatcher_ready = true;
      early.swap(early_errors);
    }
    for (auto& e : early) dispatcher->dispatch(std::move(e));
  }
  build_metrics();
  build_handlers(builder);
  build_inputs(builder);
  housekeeping = std::thread([this] {
    std::unique_lock lock(housekeeping_mu);
    while (!housekeeping_cv.wait_for(lock, std::chrono::seconds(1),
                                     [this] { return housekeeping_stop; })) {
      lock.unlock();
      dispatcher->flush_expired();
      lock.lock();
    }
  });
}

sdk::RecordSink* Runtime::Impl::named_sink(const std::string& section) {
  const ConfigNode* node = tree.root.find(section)->find("sink");
  if (!node || node->kind != ConfigNode::Kind::scalar || node->scalar.empty()) return nullptr;
  if (sdk::RecordSink* sink = record_sink(node->scalar)) return sink;
  std::vector<std::string> names;
  for (const auto& s : record_sinks) names.push_back(s.name());
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  config::fail_at(*node, at(section + ".sink"),
                  "unknown sink '" + node->scalar + "'" +
                      config::did_you_mean(node->scalar, names) +
                      (known.empty() ? " (no sinks are declared under 'sinks:')"
                                     : " (declared: " + known + ")"));
}

void Runtime::Impl::build_dispatcher() {
  sdk::ConfigView view(tree.root.find("errors"), tree.file, "errors");
  ErrorsOptions options = parse_errors_options(view);
  if (!options.utc_offset) options.utc_offset = log_engine->options().utc_offset;
  sdk::RecordSink* sink = named_sink("errors");
  if (!sink) logger("errors", "app").info("error reports are not published (no errors.sink)");
  std::vector<const sdk::ExceptionRule*> rule_ptrs;
  for (const auto& r : rules) rule_ptrs.push_back(r.get());
  BreakerRecorder recorder = [this](const std::string& key) -> std::optional<sdk::BreakerState> {
    return breakers->breaker(key).apply(sdk::BreakerOp::failure).state;
  };
  dispatcher = std::make_unique<ErrorDispatcher>(
      options,
      DispatcherParts{logger("errors", "app"), *clock_source, std::move(rule_ptrs), sink,
                      event_bus.get(), std::move(recorder), ServiceInfo::current(service)});
}

void Runtime::Impl::build_metrics() {
  sdk::ConfigView view(tree.root.find("metrics"), tree.file, "metrics");
  metrics::MetricsOptions options = metrics::parse_metrics_options(view);
  sdk::RecordSink* sink = named_sink("metrics");
  const sdk::Clock& clock = options_clock_given() ? *clock_source : counter_clock;
  metrics = std::make_unique<metrics::MetricsService>(
      options, sink, clock, *event_bus, logger("metrics", "app"),
      [this](sdk::ErrorEvent e) { report_error(std::move(e)); });
  metrics->start();
}

void Runtime::Impl::start_logging() {
  sdk::ConfigView view(tree.root.find("logging"), tree.file, "logging");
  logging::LogOptions log_options = logging::parse_log_options(view);
  if (options.quiet) {
    log_options.level = std::max(log_options.level, sdk::Level::warning);
    for (auto& [name, level] : log_options.levels) level = std::max(level, sdk::Level::warning);
  }
  log_engine = std::make_unique<logging::LogEngine>(std::move(log_options), *clock_source);
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
  breakers =
      std::make_unique<BreakerRegistry>(*breaker_backend, defaults, std::move(overrides),
                                        logger("breaker", "app"), *clock_source, event_bus.get());
}

void Runtime::Impl::build_rules(core::ComponentBuilder& builder) {
  ConfigNode& errors = *tree.root.find("errors");
  rule_items(sdk::ConfigView(&errors, tree.file, "errors"));  // shape of each item, unique names
  ConfigNode* list = errors.find("rules");
  if (!list || list->kind != ConfigNode::Kind::sequence) return;
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    ConfigNode& item = list->items[i];
    NodeLocation where = at("errors.rules[" + std::to_string(i) + "]");
    if (item.find("type"))
      rules.push_back(builder.build<sdk::ExceptionRule>(item, where, "", "options"));
    else
      rules.push_back(builder.build<sdk::ExceptionRule>(item, where, "", {}, {},
                                                        std::string(kDeclarativeRuleType)));
  }
}

void Runtime::Impl::build_handlers(core::ComponentBuilder& builder) {
  ConfigNode& list = section("handlers");
  if (list.kind != ConfigNode::Kind::sequence) return;  // the schema allows only a list
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    NodeLocation where = at("handlers[" + std::to_string(i) + "]");
    auto events =
        handler_events(sdk::ConfigView(&list.items[i], tree.file, where.path), event_names);
    handlers.push_back(
        builder.build<sdk::EventHandler>(list.items[i], where, "", "options", {"on"}));
    for (auto& sub : bind_handler(*event_bus, *handlers.back(), events))
      handler_subscriptions.push_back(std::move(sub));
  }
}

void Runtime::Impl::build_inputs(core::ComponentBuilder& builder) {
  ConfigNode& list = section("inputs");
  if (list.kind == ConfigNode::Kind::null) return;
  if (list.kind != ConfigNode::Kind::sequence)
    config::fail_at(list, at("inputs"), "expected a list of inputs");
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    ConfigNode& item = list.items[i];
    NodeLocation where = at("inputs[" + std::to_string(i) + "]");
    check_input_host_keys(item, where);
    if (options.build_inputs) {
      auto input = builder.build<sdk::Input>(item, where, "", {}, {"format", "market_data"});
      input_items.push_back(&item);
      inputs.push_back(std::move(input));
    } else {
      builder.check(sdk::ComponentKind::input, item, where, {}, {"format", "market_data"});
    }
  }
}

// `format` and `market_data` are the host's keys on an input item, next to the plugin's own.
void Runtime::Impl::check_input_host_keys(ConfigNode& item, const NodeLocation& where) {
  if (item.kind != ConfigNode::Kind::map) return;  // the component builder says what is wrong
  ConfigNode host_keys;
  host_keys.kind = ConfigNode::Kind::map;
  host_keys.mark = item.mark;
  for (const char* key : {"format", "market_data"})
    if (ConfigNode* n = item.find(key)) host_keys.entries.emplace_back(key, *n);
  config::validate_options(host_keys, {agent::input_format_option(), agent::market_data_option()},
                           where);
  const ConfigNode& format = *host_keys.find("format");
  const ConfigNode* md = item.find("market_data");
  if (format.scalar == "market_data") {
    if (!md)
      config::fail_at(format, {where.file, where.path + ".format"},
                      "format: market_data needs a 'market_data' map");
    agent::MarketDataMapping check(
        sdk::ConfigView(host_keys.find("market_data"), tree.file, where.path + ".market_data"));
  } else if (md) {
    config::fail_at_key(*md, item, {where.file, where.path + ".market_data"},
                        "'market_data' needs format: market_data");
  }
  for (auto& [key, value] : host_keys.entries) {
    if (ConfigNode* n = item.find(key))
      *n = std::move(value);
    else
      item.entries.emplace_back(key, std::move(value));
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

sdk::EventBus& Runtime::bus() {
  return *impl_->event_bus;
}

ErrorDispatcher& Runtime::errors() {
  return *impl_->dispatcher;
}

MinuteBatchCounter& Runtime::counter(const sdk::Target& target) {
  return impl_->metrics->counter(target);
}

Logger Runtime::logger(std::string_view name, std::string_view category) {
  return impl_->log_engine->logger(name, category);
}

void Runtime::reopen_logs() {
  impl_->log_engine->reopen();
}

sdk::ConfigView Runtime::config_section(std::string_view name) const {
  static const ConfigNode empty{};
  const ConfigNode* n = impl_->tree.root.find(name);
  return sdk::ConfigView(n ? n : &empty, impl_->tree.file, std::string(name));
}

std::vector<RuntimeInput> Runtime::inputs() const {
  std::vector<RuntimeInput> out;
  for (std::size_t i = 0; i < impl_->inputs.size(); ++i)
    out.push_back({impl_->inputs[i].get(), impl_->inputs[i].type(),
                   sdk::ConfigView(impl_->input_items[i], impl_->tree.file,
                                   "inputs[" + std::to_string(i) + "]")});
  return out;
}

BusStats Runtime::bus_stats() const {
  return impl_->event_bus ? impl_->event_bus->stats() : BusStats{};
}

std::uint64_t Runtime::sink_failures() const {
  std::uint64_t n = 0;
  for (const auto& s : impl_->record_sinks) n += s->stats().failed;
  for (const auto& s : impl_->log_sinks) n += s->failures();
  return n;
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
  auto left = [&] {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        until - std::chrono::steady_clock::now()));
  };
  bool ok = true;
  inputs.clear();
  if (housekeeping.joinable()) {
    {
      std::lock_guard lock(housekeeping_mu);
      housekeeping_stop = true;
    }
    housekeeping_cv.notify_all();
    housekeeping.join();
  }
  // Drain what the application emitted, publish what is pending (the current minute, held
  // duplicates), drain what that emitted, then flush the sinks.
  if (event_bus) ok = event_bus->drain(left()) && ok;
  if (metrics) ok = metrics->shutdown(until) && ok;
  if (dispatcher) dispatcher->shutdown();
  if (event_bus) ok = event_bus->drain(left()) && ok;
  for (auto& s : record_sinks) ok = s->flush(until) && ok;
  handler_subscriptions.clear();
  handlers.clear();
  metrics.reset();
  {
    // Components still alive below may report while they stop: log those, dispatch nothing.
    std::lock_guard lock(early_errors_mu);
    dispatcher_gone = true;
  }
  {
    std::unique_lock exclusive(dispatcher_mu);
    dispatcher.reset();
  }
  rules.clear();
  breakers.reset();
  breaker_backend = {};
  event_bus.reset();
  // Reverse order of construction: later sinks may publish through earlier ones.
  while (!record_sinks.empty()) record_sinks.pop_back();
  // Logging goes last: everything above may still log. After this, records go to stderr.
  if (log_engine) log_engine->shutdown();
  log_sinks.clear();
  return ok;
}

}  // namespace crosscut
