#include "crosscut/runtime.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "breaker/breaker_config.hpp"
#include "breaker/breaker_registry.hpp"
#include "bus/async_event_bus.hpp"
#include "bus/handler_binding.hpp"
#include "config/config_printer.hpp"
#include "config/option_validator.hpp"
#include "config/suggestion.hpp"
#include "config/yaml_tree_loader.hpp"
#include "core/component_builder.hpp"
#include "core/config_extension.hpp"
#include "core/host_schema.hpp"
#include "core/periodic_task.hpp"
#include "core/runtime_host.hpp"
#include "core/system_clock.hpp"
#include "crosscut/counter.hpp"
#include "crosscut/errors.hpp"
#include "delivery/delivery_options.hpp"
#include "delivery/delivery_queue.hpp"
#include "errors/errors_config.hpp"
#include "logging/log_config.hpp"
#include "logging/log_engine.hpp"
#include "metrics/metrics_options.hpp"
#include "metrics/metrics_service.hpp"
#include "plugins/plugin_selection.hpp"

namespace crosscut {

using config::NodeLocation;
using sdk::ConfigNode;

// The composition root: builds the parts in dependency order and stops them in reverse.
// Each part reads its own section; this file only decides the order and hands parts to
// each other.
// Hidden: the class is nested in an exported one, but no part of the ABI.
struct __attribute__((visibility("hidden"))) Runtime::Impl {
  RuntimeOptions options;
  config::LoadedTree tree;
  core::SystemClock system_clock;
  const sdk::Clock* clock_source = nullptr;

  // Declared before every component: destroyed after all of them.
  plugins::PluginSet plugins;
  std::unique_ptr<core::RuntimeHost> host;

  // Serves loggers from the start (writing to stderr until start()); its sinks are components
  // declared after it, and stop() shuts it down before they are destroyed.
  std::unique_ptr<logging::LogEngine> log_engine;
  std::vector<core::OwnedComponent<sdk::LogSink>> log_sinks;

  std::unique_ptr<AsyncEventBus> event_bus;
  // Each record sink behind the queue that holds its records until they are delivered.
  std::vector<std::unique_ptr<delivery::DeliveryQueue>> record_sinks;
  // Guards record_sinks while shutdown() closes and destroys them, for delivery_report().
  mutable std::mutex report_mu;
  std::optional<DeliveryReport> final_report;
  MetricsTotals final_metrics;           // once the metrics service is gone
  BreakerTotals final_breakers;          // once the breaker registry is gone
  std::uint64_t final_log_failures = 0;  // once the log sinks are gone
  core::OwnedComponent<sdk::BreakerBackend> breaker_backend;
  std::unique_ptr<BreakerRegistry> breakers;
  std::vector<core::OwnedComponent<sdk::ExceptionRule>> rules;
  std::unique_ptr<ErrorDispatcher> dispatcher;
  CoarseSystemClock counter_clock;
  std::unique_ptr<metrics::MetricsService> metrics;
  EventNames event_names;  // outlives the handler subscriptions that keep views into it
  std::vector<core::OwnedComponent<sdk::EventHandler>> handlers;
  std::vector<sdk::Subscription> handler_subscriptions;
  std::vector<core::OwnedComponent<sdk::Input>> inputs;
  std::vector<const ConfigNode*> input_items;
  // Publishes duplicates whose suppression period ended, once a second.
  std::unique_ptr<core::PeriodicTask> housekeeping;
  bool shut_down = false;

  Impl(config::LoadedTree loaded, RuntimeOptions opts)
      : options(std::move(opts)),
        tree(std::move(loaded)),
        clock_source(options.clock ? options.clock : &system_clock) {}
  ~Impl() { stop(std::chrono::seconds(10)); }

  static std::unique_ptr<Impl> create(config::LoadedTree loaded, RuntimeOptions opts) {
    auto impl = std::make_unique<Impl>(std::move(loaded), std::move(opts));
    impl->build();
    return impl;
  }

  NodeLocation at(const std::string& path) const { return {tree.file, path}; }
  sdk::ConfigView view(const std::string& key) { return {&section(key), tree.file, key}; }
  ConfigNode& section(const std::string& key) {
    ConfigNode* n = tree.root.find(key);
    if (!n) {
      tree.root.entries.emplace_back(key, ConfigNode{});
      n = &tree.root.entries.back().second;
      n->mark = tree.root.mark;
    }
    return *n;
  }
  sdk::Logger& logger(std::string_view name) { return log_engine->sdk_logger(name, "app"); }

  // Each part of the configuration is walked by one function, in one of three passes: `check`
  // (every component's options, nothing created), `build` (what the scope builds) and `probe`
  // (the servers the options name, for check_connections()).
  enum class Pass { check, build, probe };
  struct PassState {
    Pass pass;
    std::chrono::milliseconds probe_timeout{};
    std::vector<ConnectionCheck>* probes = nullptr;
    std::vector<std::string> sink_names{};  // filled by the sinks, before anything names one
  };
  // Whether the scope builds components of `kind` (in the build pass).
  bool builds(sdk::ComponentKind kind) const;
  // Checks, builds or probes one component, as `state.pass` says; the built one, or empty.
  template <sdk::ComponentType T>
  core::OwnedComponent<T> visit(core::ComponentBuilder& builder, const core::BuildRequest& request,
                                PassState& state);

  void build();
  void walk(core::ComponentBuilder& builder, PassState& state);
  bool stop(std::chrono::milliseconds deadline, const std::function<void()>& after_close = {});
  DeliveryReport live_report() const;  // under report_mu
  void build_logging(core::ComponentBuilder& builder, PassState& state);
  void build_sinks(core::ComponentBuilder& builder, PassState& state);
  delivery::DeliveryOptions read_delivery_keys(ConfigNode& item, const NodeLocation& where);
  void build_breakers(core::ComponentBuilder& builder, PassState& state);
  void build_rules(core::ComponentBuilder& builder, PassState& state);
  void build_dispatcher(PassState& state);
  void build_metrics(PassState& state);
  // The name `section.sink` gives, checked against the declared sinks; "" when none is named.
  std::string sink_name(const std::string& section, const PassState& state);
  void build_handlers(core::ComponentBuilder& builder, PassState& state);
  void build_inputs(core::ComponentBuilder& builder, PassState& state);
  // The part the scope does not build is not there: say so rather than crash.
  template <class P>
  P& built(const std::unique_ptr<P>& part, const char* what) const {
    if (!part)
      throw std::logic_error(std::string(what) +
                             " is not built in this runtime's scope (RuntimeOptions::build)");
    return *part;
  }
};

bool Runtime::Impl::builds(sdk::ComponentKind kind) const {
  switch (options.build) {
    case BuildScope::check_only:
      return false;
    case BuildScope::breakers:
      return kind == sdk::ComponentKind::breaker_backend;
    case BuildScope::components:
      return kind != sdk::ComponentKind::input;
    case BuildScope::agent:
      return true;
  }
  return false;
}

template <sdk::ComponentType T>
core::OwnedComponent<T> Runtime::Impl::visit(core::ComponentBuilder& builder,
                                             const core::BuildRequest& request, PassState& state) {
  switch (state.pass) {
    case Pass::check:
      builder.check<T>(request);
      return {};
    case Pass::build:
      if (builds(sdk::kind_of<T>)) return builder.build<T>(request);
      return {};
    case Pass::probe: {
      const std::string component = request.where.path;
      const std::string type =
          request.node->find("type") ? request.node->find("type")->scalar : request.type_override;
      for (auto& result : builder.probe<T>(request, state.probe_timeout))
        state.probes->push_back({component, type, std::move(result)});
      return {};
    }
  }
  return {};
}

void Runtime::Impl::build() {
  const sdk::ConfigSchema schema = core::root_schema(options.extension);
  core::refuse_foreign_document(tree.root, schema, *tree.file);
  config::validate_options(tree.root, schema, at(""));
  if (const ConfigNode* v = tree.root.find("crosscut"); v && !v->is_default && v->scalar != "1")
    config::fail_at(*v, at("crosscut"),
                    "configuration schema version " + v->scalar +
                        " is not supported (this host reads version 1)");
  host = std::make_unique<core::RuntimeHost>(tree.root.find("service")->find("name")->scalar,
                                             *clock_source);

  logging::LogOptions log_options = logging::parse_log_options(view("logging"));
  if (options.quiet) {
    log_options.level = std::max(log_options.level, sdk::Level::warning);
    for (auto& [name, level] : log_options.levels) level = std::max(level, sdk::Level::warning);
  }
  log_engine = std::make_unique<logging::LogEngine>(std::move(log_options), *clock_source);
  host->attach_logging(*log_engine);

  try {
    plugins::load_selected(
        plugins::select_plugins(section("plugins"), at("plugins"), options.plugin_paths), plugins);
  } catch (const plugins::PluginLoadError& e) {
    throw StartupError(e.what());
  }
  core::ComponentBuilder builder(plugins, *host);
  // Everything is checked before anything is built: a refused configuration leaves no trace.
  PassState check{Pass::check};
  walk(builder, check);
  if (options.build == BuildScope::check_only) return;
  PassState build{Pass::build};
  walk(builder, build);
  if (builds(sdk::ComponentKind::record_sink)) host->declare_unbuilt_sinks({});
  if (dispatcher)
    housekeeping = std::make_unique<core::PeriodicTask>(std::chrono::seconds(1),
                                                        [this] { dispatcher->flush_expired(); });
}

void Runtime::Impl::walk(core::ComponentBuilder& builder, PassState& state) {
  const BusOptions bus_options = read_bus_options(view("bus"));
  if (state.pass == Pass::build) {
    event_bus = std::make_unique<AsyncEventBus>(bus_options, logger("bus"));
    host->attach_bus(*event_bus);
    host->attach_record_sinks(record_sinks);
  }
  // Record sinks before log sinks: a `record` log sink publishes through one.
  build_sinks(builder, state);
  build_logging(builder, state);
  build_breakers(builder, state);
  build_rules(builder, state);
  build_dispatcher(state);
  build_metrics(state);
  build_handlers(builder, state);
  build_inputs(builder, state);
}

std::string Runtime::Impl::sink_name(const std::string& section, const PassState& state) {
  const ConfigNode* node = tree.root.find(section)->find("sink");
  if (!node || node->kind != ConfigNode::Kind::scalar || node->scalar.empty()) return "";
  const auto& names = state.sink_names;
  if (std::find(names.begin(), names.end(), node->scalar) != names.end()) return node->scalar;
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  config::fail_at(*node, at(section + ".sink"),
                  "unknown sink '" + node->scalar + "'" +
                      config::did_you_mean(node->scalar, names) +
                      (known.empty() ? " (no sinks are declared under 'sinks:')"
                                     : " (declared: " + known + ")"));
}

void Runtime::Impl::build_logging(core::ComponentBuilder& builder, PassState& state) {
  ConfigNode* list = section("logging").find("sinks");
  if (list && list->kind != ConfigNode::Kind::null) {
    if (list->kind != ConfigNode::Kind::sequence)
      config::fail_at(*list, at("logging.sinks"),
                      "expected a list of log sinks, e.g. [{type: console}]");
    for (std::size_t i = 0; i < list->items.size(); ++i)
      if (auto sink = visit<sdk::LogSink>(
              builder,
              {.node = &list->items[i], .where = at("logging.sinks[" + std::to_string(i) + "]")},
              state))
        log_sinks.push_back(std::move(sink));
  }
  if (state.pass != Pass::build) return;
  for (auto& sink : log_sinks) log_engine->add_sink(sink.get());
  log_engine->start();
}

void Runtime::Impl::build_sinks(core::ComponentBuilder& builder, PassState& state) {
  ConfigNode& sinks = section("sinks");
  if (sinks.kind == ConfigNode::Kind::null) return;
  if (sinks.kind != ConfigNode::Kind::map)
    config::fail_at(sinks, at("sinks"),
                    "expected a map of named sinks, e.g. {console: {type: stdout}}");
  for (auto& [name, node] : sinks.entries) {
    const NodeLocation where = at(config::child_path("sinks", name));
    const delivery::DeliveryOptions delivery_options = read_delivery_keys(node, where);
    std::vector<std::string> host_keys(std::begin(delivery::kDeliveryKeys),
                                       std::end(delivery::kDeliveryKeys));
    auto sink = visit<sdk::RecordSink>(
        builder, {.node = &node, .where = where, .name = name, .reserved = host_keys}, state);
    state.sink_names.push_back(name);
    if (!sink) continue;
    try {
      record_sinks.push_back(std::make_unique<delivery::DeliveryQueue>(
          name, std::move(sink), delivery_options, logger("delivery")));
    } catch (const delivery::SpoolError& e) {
      throw StartupError(
          sdk::ConfigView(node.find("spool"), where.file, where.path + ".spool").where() + ": " +
          e.what());
    }
  }
  // Until (or unless) they are built, the names answer lookups of components being checked.
  if (state.pass == Pass::check) host->declare_unbuilt_sinks(state.sink_names);
}
delivery::DeliveryOptions Runtime::Impl::read_delivery_keys(ConfigNode& item,
                                                            const NodeLocation& where) {
  if (item.kind != ConfigNode::Kind::map) return {};  // the component builder says what is wrong
  // Validated apart from the plugin's keys, then put back with their defaults (for --print).
  ConfigNode keys;
  keys.kind = ConfigNode::Kind::map;
  keys.mark = item.mark;
  for (const char* key : delivery::kDeliveryKeys)
    if (ConfigNode* n = item.find(key)) keys.entries.emplace_back(key, *n);
  const auto& table = delivery::delivery_options_table();
  config::validate_options(keys, table.schema(), where);
  delivery::DeliveryOptions options = table.read(sdk::ConfigView(&keys, where.file, where.path));
  for (auto& [key, value] : keys.entries) {
    if (ConfigNode* n = item.find(key))
      *n = std::move(value);
    else
      item.entries.emplace_back(key, std::move(value));
  }
  return options;
}

void Runtime::Impl::build_breakers(core::ComponentBuilder& builder, PassState& state) {
  ConfigNode& breakers_node = section("breakers");
  BreakerConfig config = read_breaker_config(breakers_node, at("breakers"));
  breaker_backend = visit<sdk::BreakerBackend>(
      builder,
      {.node = breakers_node.find("backend"), .where = at("breakers.backend"), .name = "breakers"},
      state);
  if (!breaker_backend) return;
  breakers = std::make_unique<BreakerRegistry>(*breaker_backend, config.defaults,
                                               std::move(config.overrides), logger("breaker"),
                                               *clock_source, event_bus.get());
}

void Runtime::Impl::build_rules(core::ComponentBuilder& builder, PassState& state) {
  rule_items(view("errors"));  // shape of each item, unique names
  ConfigNode* list = section("errors").find("rules");
  if (!list || list->kind != ConfigNode::Kind::sequence) return;
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    ConfigNode& item = list->items[i];
    core::BuildRequest request{.node = &item,
                               .where = at("errors.rules[" + std::to_string(i) + "]")};
    if (item.find("type"))
      request.options_key = "options";
    else
      request.type_override = std::string(kDeclarativeRuleType);
    if (auto rule = visit<sdk::ExceptionRule>(builder, request, state))
      rules.push_back(std::move(rule));
  }
}

void Runtime::Impl::build_dispatcher(PassState& state) {
  ErrorsOptions errors_options = parse_errors_options(view("errors"));
  const std::string sink_for_errors = sink_name("errors", state);
  // The host's own parts are built with the record sinks they publish to.
  if (state.pass != Pass::build || !builds(sdk::ComponentKind::record_sink)) return;
  if (!errors_options.utc_offset) errors_options.utc_offset = log_engine->options().utc_offset;
  sdk::RecordSink* sink = sink_for_errors.empty() ? nullptr : host->record_sink(sink_for_errors);
  if (!sink) logger("errors").info("error reports are not published (no errors.sink)");
  std::vector<const sdk::ExceptionRule*> rule_ptrs;
  for (const auto& r : rules) rule_ptrs.push_back(r.get());
  BreakerRecorder recorder = [this](const std::string& key) -> std::optional<sdk::BreakerState> {
    return breakers->breaker(key).apply(sdk::BreakerOp::failure).state;
  };
  dispatcher = std::make_unique<ErrorDispatcher>(
      errors_options, DispatcherParts{logger("errors"), *clock_source, std::move(rule_ptrs), sink,
                                      event_bus.get(), std::move(recorder),
                                      ServiceInfo::current(std::string(host->service_name()))});
  host->attach_dispatcher(*dispatcher);
}

void Runtime::Impl::build_metrics(PassState& state) {
  metrics::MetricsOptions metrics_options = metrics::parse_metrics_options(view("metrics"));
  const std::string sink_for_metrics = sink_name("metrics", state);
  if (state.pass != Pass::build || !builds(sdk::ComponentKind::record_sink)) return;
  sdk::RecordSink* sink = sink_for_metrics.empty() ? nullptr : host->record_sink(sink_for_metrics);
  const sdk::Clock& clock = options.clock ? *clock_source : counter_clock;
  metrics = std::make_unique<metrics::MetricsService>(
      metrics_options, sink, clock, *event_bus, logger("metrics"),
      [this](sdk::ErrorEvent e) { host->report_error(std::move(e)); });
  metrics->start();
}

void Runtime::Impl::build_handlers(core::ComponentBuilder& builder, PassState& state) {
  ConfigNode& list = section("handlers");
  if (list.kind != ConfigNode::Kind::sequence) return;  // the schema allows only a list
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    NodeLocation where = at("handlers[" + std::to_string(i) + "]");
    auto events =
        handler_events(sdk::ConfigView(&list.items[i], tree.file, where.path), event_names);
    auto handler = visit<sdk::EventHandler>(
        builder,
        {.node = &list.items[i], .where = where, .options_key = "options", .reserved = {"on"}},
        state);
    if (!handler) continue;
    handlers.push_back(std::move(handler));
    for (auto& sub : bind_handler(*event_bus, *handlers.back(), events))
      handler_subscriptions.push_back(std::move(sub));
  }
}

void Runtime::Impl::build_inputs(core::ComponentBuilder& builder, PassState& state) {
  ConfigNode& list = section("inputs");
  if (list.kind == ConfigNode::Kind::null) return;
  if (list.kind != ConfigNode::Kind::sequence)
    config::fail_at(list, at("inputs"), "expected a list of inputs");
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    ConfigNode& item = list.items[i];
    const core::BuildRequest request{.node = &item,
                                     .where = at("inputs[" + std::to_string(i) + "]"),
                                     .reserved = core::input_key_names(options.extension)};
    core::check_input_keys(item, request.where, options.extension);
    if (auto input = visit<sdk::Input>(builder, request, state)) {
      inputs.push_back(std::move(input));
      input_items.push_back(&item);
    }
  }
}

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runtime::~Runtime() {
  shutdown();
}

std::unique_ptr<Runtime> Runtime::from_file(const std::string& path, RuntimeOptions options) {
  return std::unique_ptr<Runtime>(
      new Runtime(Impl::create(config::load_yaml_file(path), std::move(options))));
}

std::unique_ptr<Runtime> Runtime::from_string(std::string_view yaml, const std::string& name,
                                              RuntimeOptions options) {
  return std::unique_ptr<Runtime>(
      new Runtime(Impl::create(config::parse_yaml_tree(yaml, name), std::move(options))));
}

Breaker Runtime::breaker(std::string_view resource_key) {
  return impl_->built(impl_->breakers, "the breaker registry").breaker(resource_key);
}

sdk::EventBus& Runtime::bus() {
  return impl_->built(impl_->event_bus, "the event bus");
}

ErrorDispatcher& Runtime::errors() {
  return impl_->built(impl_->dispatcher, "the error dispatcher");
}

MinuteBatchCounter& Runtime::counter(const sdk::Target& target) {
  return impl_->built(impl_->metrics, "the metrics service").counter(target);
}

bool Runtime::count(const sdk::Target& target, std::string_view symbol,
                    std::optional<std::int64_t> event_time_ms) {
  return impl_->built(impl_->metrics, "the metrics service").count(target, symbol, event_time_ms);
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
  return delivery_report().lost() + log_sink_failures();
}

std::map<std::string, std::int64_t> Runtime::component_metrics() const {
  return impl_->host ? impl_->host->metrics() : std::map<std::string, std::int64_t>{};
}

std::uint64_t Runtime::log_sink_failures() const {
  std::lock_guard lock(impl_->report_mu);
  std::uint64_t n = impl_->final_log_failures;
  for (const auto& s : impl_->log_sinks) n += s->failures();
  return n;
}

namespace {
MetricsTotals totals_of(const metrics::MetricsStats& s) {
  return {s.published_batches, s.published_increments, s.dropped_increments,
          s.counters_live,     s.counters_released,    s.increments_refused};
}
}  // namespace

namespace {
BreakerTotals totals_of(const BreakerRegistryStats& s) {
  return {s.keys_too_long, s.degraded};
}
}  // namespace

BreakerTotals Runtime::breaker_totals() const {
  std::lock_guard lock(impl_->report_mu);
  if (!impl_->breakers) return impl_->final_breakers;
  return totals_of(impl_->breakers->stats());
}

MetricsTotals Runtime::metrics_totals() const {
  std::lock_guard lock(impl_->report_mu);
  if (!impl_->metrics) return impl_->final_metrics;
  const metrics::MetricsStats s = impl_->metrics->stats();
  return totals_of(s);
}

DeliveryReport Runtime::delivery_report() const {
  std::lock_guard lock(impl_->report_mu);
  if (impl_->final_report) return *impl_->final_report;
  return impl_->live_report();
}

DeliveryReport Runtime::Impl::live_report() const {
  DeliveryReport report;
  for (const auto& q : record_sinks) {
    const delivery::DeliveryCounts c = q->counts();
    SinkDelivery s;
    s.sink = q->name();
    s.accepted = c.accepted;
    s.delivered = c.delivered;
    s.lost = c.lost();
    s.spooled = c.left_in_spool;
    s.waiting = c.waiting;
    s.recovered = c.recovered;
    s.corrupt_bytes = c.corrupt_bytes;
    s.reason = q->last_failure();
    report.sinks.push_back(std::move(s));
  }
  return report;
}

std::vector<std::string> Runtime::breaker_keys() {
  if (!impl_->breaker_backend) impl_->built(impl_->breakers, "the breaker backend");
  return impl_->breaker_backend->keys();
}

sdk::RecordSink* Runtime::record_sink(std::string_view name) {
  return impl_->host->record_sink(name);
}

sdk::HostContext& Runtime::host() {
  return *impl_->host;
}

const sdk::Clock& Runtime::clock() const {
  return *impl_->clock_source;
}

std::string Runtime::effective_config() const {
  return config::print_yaml(impl_->tree.root);
}

std::vector<ConnectionCheck> Runtime::check_connections(std::chrono::milliseconds timeout) {
  std::vector<ConnectionCheck> out;
  core::ComponentBuilder builder(impl_->plugins, *impl_->host);
  Impl::PassState probe{Impl::Pass::probe, timeout, &out};
  impl_->walk(builder, probe);
  return out;
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

bool Runtime::shutdown(std::chrono::milliseconds deadline,
                       const std::function<void()>& after_close) {
  return impl_->stop(deadline, after_close);
}

bool Runtime::Impl::stop(std::chrono::milliseconds deadline,
                         const std::function<void()>& after_close) {
  if (shut_down) return true;
  shut_down = true;
  auto until = std::chrono::steady_clock::now() + deadline;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        until - std::chrono::steady_clock::now()));
  };
  bool ok = true;
  // A full store of undelivered records makes publishers wait no longer than the deadline.
  for (auto& q : record_sinks) q->stop_blocking(until);
  inputs.clear();
  housekeeping.reset();
  // Drain what the application emitted, publish what is pending (the current minute, held
  // duplicates), drain what that emitted, then flush the sinks.
  if (event_bus) ok = event_bus->drain(left()) && ok;
  if (metrics) ok = metrics->shutdown(until) && ok;
  if (dispatcher) dispatcher->shutdown();
  if (event_bus) ok = event_bus->drain(left()) && ok;
  if (log_engine) log_engine->flush(left());  // log records bound for a `record` log sink
  for (auto& q : record_sinks) q->flush(until);
  // Close the sinks: what is still undelivered stays in a spool or is counted as lost. Errors
  // their plugins report while they stop are logged, not published into closed queues.
  if (host) host->detach_dispatcher();
  for (auto it = record_sinks.rbegin(); it != record_sinks.rend(); ++it) (*it)->close();
  {
    std::lock_guard lock(report_mu);
    final_report = live_report();
    ok = ok && final_report->lost() == 0;
    for (const auto& s : final_report->sinks)
      if (s.spooled != 0)
        logger("delivery")
            .info("undelivered records kept in the spool for the next run",
                  {{"sink", s.sink}, {"records", s.spooled}});
  }
  if (after_close) after_close();
  handler_subscriptions.clear();
  handlers.clear();
  {
    std::lock_guard lock(report_mu);
    if (metrics) {
      const metrics::MetricsStats m = metrics->stats();
      final_metrics = totals_of(m);
    }
    metrics.reset();
  }
  dispatcher.reset();
  rules.clear();
  {
    // breaker_totals() may be asked from another thread while the runtime stops.
    std::lock_guard lock(report_mu);
    if (breakers) final_breakers = totals_of(breakers->stats());
    breakers.reset();
  }
  breaker_backend = {};
  event_bus.reset();
  // Logging goes last but for the closed queues a `record` log sink may still hold: everything
  // above may still log. After this, records go to stderr.
  if (log_engine) log_engine->shutdown();
  {
    std::lock_guard lock(report_mu);
    for (const auto& s : log_sinks) final_log_failures += s->failures();
    log_sinks.clear();
  }
  {
    std::lock_guard lock(report_mu);
    record_sinks.clear();
  }
  return ok;
}

}  // namespace crosscut
