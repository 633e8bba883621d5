#include "crosscut/runtime.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "admin/admin_server.hpp"
#include "admin/prometheus_text.hpp"
#include "admin/runtime_metric_families.hpp"
#include "breaker/breaker_config.hpp"
#include "breaker/breaker_registry.hpp"
#include "bus/async_event_bus.hpp"
#include "bus/handler_binding.hpp"
#include "config/config_compare.hpp"
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

// A component built from one configuration: the tree it was read from (kept while the
// component lives, since it may keep views of its options), its item there, and the record
// sinks it looked up while it was built. A reload keeps a part whose item did not change and
// whose sinks were kept.
template <class T>
struct Part {
  std::shared_ptr<config::LoadedTree> tree;
  const ConfigNode* node = nullptr;
  core::OwnedComponent<T> component;
  std::vector<std::string> sinks_used;
  T* get() const { return component.get(); }
};
template <class T>
using PartPtr = std::shared_ptr<Part<T>>;

// A record sink behind the delivery queue that holds its records until they are delivered.
struct SinkPart {
  std::shared_ptr<config::LoadedTree> tree;
  const ConfigNode* node = nullptr;
  std::shared_ptr<delivery::DeliveryQueue> queue;
};

// An event handler and its subscriptions (made when its configuration goes live).
struct HandlerPart : Part<sdk::EventHandler> {
  std::vector<std::string_view> events;
  std::vector<sdk::Subscription> subscriptions;
  ~HandlerPart() { subscriptions.clear(); }  // before the handler they call
};

// Everything one configuration built that a reload may replace, and the settings the
// runtime's own parts read from it.
struct Generation {
  std::shared_ptr<config::LoadedTree> tree;
  std::vector<std::shared_ptr<SinkPart>> record_sinks;
  core::RuntimeHost::SinkTable sink_table;
  std::vector<PartPtr<sdk::LogSink>> log_sinks;
  logging::LogOptions log_options;
  PartPtr<sdk::BreakerBackend> breaker_backend;
  BreakerConfig breaker_config;
  std::vector<PartPtr<sdk::ExceptionRule>> rules;
  ErrorsOptions errors_options;
  std::string errors_sink;
  metrics::MetricsOptions metrics_options;
  std::string metrics_sink;
  std::vector<std::shared_ptr<HandlerPart>> handlers;
  std::vector<PartPtr<sdk::Input>> inputs;

  sdk::RecordSink* record_sink(const std::string& name) const {
    for (const auto& s : record_sinks)
      if (s->queue->name() == name) return s->queue.get();
    return nullptr;
  }
};

namespace {
void add_counts(delivery::DeliveryCounts& to, const delivery::DeliveryCounts& c) {
  to.accepted += c.accepted;
  to.delivered += c.delivered;
  to.retried += c.retried;
  to.permanent += c.permanent;
  to.refused += c.refused;
  to.dropped += c.dropped;
  to.waiting += c.waiting;
  to.buffered_bytes += c.buffered_bytes;
  to.recovered += c.recovered;
  to.corrupt_bytes += c.corrupt_bytes;
  to.left_in_memory += c.left_in_memory;
  to.left_in_spool += c.left_in_spool;
}
}  // namespace

// Breakers whose state a scrape asks the backend for, at most.
constexpr std::size_t kMaxBreakersScraped = 10000;

// Sections a reload cannot change: the process keeps what it started with.
constexpr const char* kRestartOnlyKeys[] = {
    "crosscut", "service", "plugins", "bus", "admin", "logging.queue", "logging.crash_handler"};

// The composition root: builds the parts in dependency order and stops them in reverse, and
// on a reload builds the next configuration's parts beside the running ones before swapping
// them in. Each part reads its own section; this file decides the order and hands parts to
// each other.
// Hidden: the class is nested in an exported one, but no part of the ABI.
struct __attribute__((visibility("hidden"))) Runtime::Impl {
  RuntimeOptions options;
  std::string config_path;  // "" when built from a string: nothing to reload from
  core::SystemClock system_clock;
  const sdk::Clock* clock_source = nullptr;

  // Declared before every component: destroyed after all of them.
  plugins::PluginSet plugins;
  std::unique_ptr<core::RuntimeHost> host;

  // Serves loggers from the start (writing to stderr until start()); its sinks are components
  // of the generation, and stop() shuts it down before they are destroyed.
  std::unique_ptr<logging::LogEngine> log_engine;

  std::unique_ptr<AsyncEventBus> event_bus;
  // The running configuration's parts. Replaced under report_mu (readers of the figures).
  std::shared_ptr<Generation> gen;
  // Parts that may still be in use after a reload replaced them (a breaker backend an
  // operation may be using, log sinks the logging thread did not let go of in time): kept
  // until stop().
  std::vector<std::shared_ptr<void>> retired;
  // Guards gen's sinks while shutdown() closes and destroys them, for delivery_report().
  mutable std::mutex report_mu;
  std::optional<DeliveryReport> final_report;
  // Record sinks a reload replaced or removed, closed (or closing): their figures go on under
  // their name, so that they never go back; and a publisher still holding one is refused
  // rather than left with a dangling pointer. Kept until stop().
  std::vector<std::shared_ptr<SinkPart>> replaced_sinks;  // guarded by report_mu
  struct SinkCounts {
    std::string name;
    delivery::DeliveryCounts counts;
    std::string reason;
  };
  std::vector<SinkCounts> sink_counts() const;  // under report_mu: live and replaced, by name
  std::uint64_t retired_log_failures = 0;       // of log sinks replaced or gone
  MetricsTotals final_metrics;                  // once the metrics service is gone
  BreakerRegistryStats final_breakers;          // once the breaker registry is gone
  std::unique_ptr<BreakerRegistry> breakers;
  std::unique_ptr<ErrorDispatcher> dispatcher;
  CoarseSystemClock counter_clock;
  std::unique_ptr<metrics::MetricsService> metrics;
  EventNames event_names;  // outlives the handler subscriptions that keep views into it
  // Publishes duplicates whose suppression period ended, once a second.
  std::unique_ptr<core::PeriodicTask> housekeeping;
  bool shut_down = false;

  // Reloads: one at a time, on the thread of reload() or on reload_thread for requests.
  std::mutex reload_mu;  // serialises reloads
  std::mutex request_mu;
  std::condition_variable request_cv;
  std::uint64_t reloads_requested = 0;  // guarded by request_mu
  std::uint64_t reloads_done = 0;       // guarded by request_mu
  ReloadOutcome last_outcome;           // guarded by request_mu
  bool reload_thread_stop = false;      // guarded by request_mu
  std::thread reload_thread;
  bool reload_thread_running = false;  // guarded by request_mu
  InputRunner* input_runner = nullptr;
  std::atomic<std::uint64_t> reload_successes{0};
  std::atomic<std::uint64_t> reload_failures{0};
  std::atomic<std::int64_t> last_reload_success_s{0};
  std::atomic<Readiness> readiness{Readiness::starting};
  std::mutex listener_mu;
  std::function<void(Readiness)> readiness_listener;  // guarded by listener_mu
  Readiness set_readiness(Readiness r) {
    const Readiness before = readiness.exchange(r);
    if (before != r) notify_readiness(r);
    return before;
  }
  void notify_readiness(Readiness r) {
    std::lock_guard lock(listener_mu);
    if (readiness_listener) readiness_listener(r);
  }
  std::mutex collector_mu;
  MetricsCollector collector;  // guarded by collector_mu
  // Declared last: destroyed (and stopped) first. stop() also stops it before anything else.
  std::unique_ptr<admin::AdminServer> admin;
  void start_admin();
  admin::RuntimeFigures figures() const;
  std::string render_metrics();

  Impl(RuntimeOptions opts, std::string path)
      : options(std::move(opts)),
        config_path(std::move(path)),
        clock_source(options.clock ? options.clock : &system_clock) {}
  ~Impl() { stop(std::chrono::seconds(10)); }

  static std::unique_ptr<Impl> create(config::LoadedTree loaded, RuntimeOptions opts,
                                      std::string path) {
    auto impl = std::make_unique<Impl>(std::move(opts), std::move(path));
    impl->build(std::move(loaded));
    return impl;
  }

  config::LoadedTree& tree() const { return *gen->tree; }
  sdk::Logger& logger(std::string_view name) { return log_engine->sdk_logger(name, "app"); }

  // Each part of the configuration is walked by one function, in one of three passes: `check`
  // (every component's options, nothing created), `build` (what the scope builds) and `probe`
  // (the servers the options name, for check_connections()). A build during a reload stages
  // the parts in `gen`, reusing those of `previous` that did not change; commit() swaps them
  // in.
  enum class Pass { check, build, probe };
  struct PassState {
    Pass pass;
    Generation* gen = nullptr;
    std::chrono::milliseconds probe_timeout{};
    std::vector<ConnectionCheck>* probes = nullptr;
    std::vector<std::string> sink_names{};  // filled by the sinks, before anything names one
    const Generation* previous = nullptr;   // a reload's running configuration
    std::vector<std::string> replaced_sinks{};

    config::LoadedTree& tree() const { return *gen->tree; }
    NodeLocation at(const std::string& path) const { return {gen->tree->file, path}; }
    sdk::ConfigView view(const std::string& key) const {
      return {&section(key), gen->tree->file, key};
    }
    ConfigNode& section(const std::string& key) const {
      ConfigNode& root = gen->tree->root;
      ConfigNode* n = root.find(key);
      if (!n) {
        root.entries.emplace_back(key, ConfigNode{});
        n = &root.entries.back().second;
        n->mark = root.mark;
      }
      return *n;
    }
    bool reloading() const { return previous != nullptr; }
  };
  // Whether the scope builds components of `kind` (in the build pass).
  bool builds(sdk::ComponentKind kind) const;
  // Checks, builds or probes one component, as `state.pass` says; the built one, or empty.
  template <sdk::ComponentType T>
  core::OwnedComponent<T> visit(core::ComponentBuilder& builder, const core::BuildRequest& request,
                                PassState& state);
  // visit() for a part a reload may keep: in a reload's build pass, the unchanged part of
  // `pool` (taken out of it) if there is one.
  template <sdk::ComponentType T, class P = Part<T>>
  std::shared_ptr<P> visit_part(core::ComponentBuilder& builder, const core::BuildRequest& request,
                                PassState& state, std::vector<std::shared_ptr<P>>* pool);
  template <class P>
  std::shared_ptr<P> take_unchanged(std::vector<std::shared_ptr<P>>& pool, const ConfigNode& node,
                                    const PassState& state);

  void build(config::LoadedTree loaded);
  void validate(PassState& state);
  void walk(core::ComponentBuilder& builder, PassState& state);
  bool stop(std::chrono::milliseconds deadline, const std::function<void()>& after_close = {});
  DeliveryReport live_report() const;  // under report_mu
  void build_logging(core::ComponentBuilder& builder, PassState& state);
  void build_sinks(core::ComponentBuilder& builder, PassState& state);
  delivery::DeliveryOptions read_delivery_keys(ConfigNode& item, const NodeLocation& where);
  void build_breakers(core::ComponentBuilder& builder, PassState& state);
  // This process's id in breaker quorums: breakers.instance, or <service>/<host>/<pid>.
  std::string breaker_instance(const BreakerConfig& config) const;
  void build_rules(core::ComponentBuilder& builder, PassState& state);
  void build_dispatcher(PassState& state);
  void build_metrics(PassState& state);
  // The name `section.sink` gives, checked against the declared sinks; "" when none is named.
  std::string sink_name(const std::string& section, const PassState& state);
  void build_handlers(core::ComponentBuilder& builder, PassState& state);
  void build_inputs(core::ComponentBuilder& builder, PassState& state);

  // Reloads.
  ReloadOutcome reload_now();
  ReloadOutcome reload_request();  // Runtime::reload()
  void refuse_restart_only_changes(const config::LoadedTree& next) const;
  void commit(const std::shared_ptr<Generation>& next);
  void retire_sink(SinkPart& sink, std::chrono::steady_clock::time_point until);
  void run_reload_thread();
  std::vector<RuntimeInput> input_list(const Generation& g,
                                       const std::vector<PartPtr<sdk::Input>>& inputs) const;

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

template <class P>
std::shared_ptr<P> Runtime::Impl::take_unchanged(std::vector<std::shared_ptr<P>>& pool,
                                                 const ConfigNode& node, const PassState& state) {
  for (auto& candidate : pool) {
    if (!candidate || !config::same_config(*candidate->node, node)) continue;
    const bool sink_replaced =
        std::any_of(candidate->sinks_used.begin(), candidate->sinks_used.end(), [&](auto& n) {
          return std::find(state.replaced_sinks.begin(), state.replaced_sinks.end(), n) !=
                 state.replaced_sinks.end();
        });
    if (sink_replaced) continue;
    return std::exchange(candidate, nullptr);
  }
  return nullptr;
}

template <sdk::ComponentType T, class P>
std::shared_ptr<P> Runtime::Impl::visit_part(core::ComponentBuilder& builder,
                                             const core::BuildRequest& request, PassState& state,
                                             std::vector<std::shared_ptr<P>>* pool) {
  if (state.pass == Pass::build && state.reloading() && pool && builds(sdk::kind_of<T>))
    if (auto kept = take_unchanged(*pool, *request.node, state)) return kept;
  core::RuntimeHost::SinkLookups lookups;
  auto component = visit<T>(builder, request, state);
  if (!component) return nullptr;
  auto part = std::make_shared<P>();
  part->tree = state.gen->tree;
  part->node = request.node;
  part->component = std::move(component);
  part->sinks_used = lookups.take();
  return part;
}

void Runtime::Impl::validate(PassState& state) {
  config::LoadedTree& t = state.tree();
  const sdk::ConfigSchema schema = core::root_schema(options.extension);
  core::refuse_foreign_document(t.root, schema, *t.file);
  config::validate_options(t.root, schema, state.at(""));
  if (const ConfigNode* v = t.root.find("crosscut"); v && !v->is_default && v->scalar != "1")
    config::fail_at(*v, state.at("crosscut"),
                    "configuration schema version " + v->scalar +
                        " is not supported (this host reads version 1)");
  if (const ConfigNode* listen =
          t.root.find("admin") ? t.root.find("admin")->find("listen") : nullptr)
    if (const std::string problem = admin::check_listen_address(listen->scalar); !problem.empty())
      config::fail_at(*listen, state.at("admin.listen"), problem);
  state.gen->log_options = logging::parse_log_options(state.view("logging"));
  if (options.quiet) {
    auto& lo = state.gen->log_options;
    lo.level = std::max(lo.level, sdk::Level::warning);
    for (auto& [name, level] : lo.levels) level = std::max(level, sdk::Level::warning);
  }
}

void Runtime::Impl::build(config::LoadedTree loaded) {
  gen = std::make_shared<Generation>();
  gen->tree = std::make_shared<config::LoadedTree>(std::move(loaded));
  PassState check{Pass::check, gen.get()};
  validate(check);
  host = std::make_unique<core::RuntimeHost>(tree().root.find("service")->find("name")->scalar,
                                             *clock_source);
  log_engine = std::make_unique<logging::LogEngine>(gen->log_options, *clock_source);
  host->attach_logging(*log_engine);

  try {
    plugins::load_selected(plugins::select_plugins(check.section("plugins"), check.at("plugins"),
                                                   options.plugin_paths),
                           plugins);
  } catch (const plugins::PluginLoadError& e) {
    throw StartupError(e.what());
  }
  core::ComponentBuilder builder(plugins, *host);
  // Everything is checked before anything is built: a refused configuration leaves no trace.
  {
    core::RuntimeHost::StagedSinks staged(gen->sink_table);
    walk(builder, check);
  }
  if (options.build == BuildScope::check_only) return;
  if (builds(sdk::ComponentKind::record_sink)) {
    event_bus = std::make_unique<AsyncEventBus>(read_bus_options(check.view("bus")), logger("bus"));
    host->attach_bus(*event_bus);
  }
  PassState build{Pass::build, gen.get()};
  walk(builder, build);
  if (dispatcher)
    housekeeping = std::make_unique<core::PeriodicTask>(std::chrono::seconds(1),
                                                        [this] { dispatcher->flush_expired(); });
  last_reload_success_s.store(std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
  if (builds(sdk::ComponentKind::record_sink) && !config_path.empty()) {
    std::lock_guard lock(request_mu);
    reload_thread = std::thread([this] { run_reload_thread(); });
    reload_thread_running = true;
  }
  start_admin();
  // Without inputs the runtime is ready once built; the agent says when its inputs run.
  if (options.build != BuildScope::agent) set_readiness(Readiness::ready);
}

void Runtime::Impl::start_admin() {
  const ConfigNode* section = tree().root.find("admin");
  const ConfigNode* node = section ? section->find("listen") : nullptr;
  const std::string listen = node ? node->scalar : "";
  if (listen.empty() || !builds(sdk::ComponentKind::record_sink)) return;
  admin::AdminRoutes routes;
  routes.healthy = [this] { return readiness.load() != Readiness::stopping; };
  routes.readiness = [this] { return readiness.load(); };
  routes.metrics = [this] { return render_metrics(); };
  routes.reload = [this] { return reload_request(); };
  try {
    admin = std::make_unique<admin::AdminServer>(listen, std::move(routes), logger("admin"));
  } catch (const std::exception& e) {
    throw StartupError(e.what());
  }
}

admin::RuntimeFigures Runtime::Impl::figures() const {
  admin::RuntimeFigures f;
  std::shared_ptr<Generation> g;  // a reload may swap gen meanwhile: this one stays alive
  {
    std::lock_guard lock(report_mu);
    g = gen;
    for (const auto& [name, c, reason] : sink_counts())
      f.sinks.push_back({name, c.accepted, c.delivered, c.permanent + c.refused + c.left_in_memory,
                         c.dropped, c.waiting});
    const BreakerRegistryStats b = breakers ? breakers->stats() : final_breakers;
    f.transitions = {b.transitions_to[0], b.transitions_to[1], b.transitions_to[2]};
    if (metrics) {
      const metrics::MetricsStats m = metrics->stats();
      f.metrics_increments = m.published_increments;
      f.metrics_batches = m.published_batches;
      f.counters_live = m.counters_live;
    }
  }
  if (breakers && g && g->breaker_backend) {
    // Each key's state, as an operation would see it now (at most a bounded number of keys).
    std::vector<std::string> keys = g->breaker_backend->get()->keys();
    if (keys.size() > kMaxBreakersScraped) keys.resize(kMaxBreakersScraped);
    for (const auto& key : keys)
      ++f.breakers_in_state[static_cast<std::size_t>(breakers->breaker(key).state())];
  }
  if (dispatcher) {
    f.errors_by_kind = dispatcher->dispatched_by_kind();
    f.errors_suppressed = dispatcher->stats().suppressed;
  }
  const logging::LogEngineStats l = log_engine->stats();
  f.log_records = l.written_by_level;
  f.log_suppressed = l.suppressed;
  f.log_dropped = l.dropped;
  if (event_bus) {
    const BusStats b = event_bus->stats();
    f.bus_queue_depth = event_bus->queue_depth();
    f.bus_published = b.published;
    f.bus_dropped = b.dropped;
  }
  f.reloads = {reload_successes.load(), reload_failures.load(), last_reload_success_s.load()};
  f.components = host->metrics();
  return f;
}

void Runtime::Impl::walk(core::ComponentBuilder& builder, PassState& state) {
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
  const ConfigNode* node = state.tree().root.find(section)->find("sink");
  if (!node || node->kind != ConfigNode::Kind::scalar || node->scalar.empty()) return "";
  const auto& names = state.sink_names;
  if (std::find(names.begin(), names.end(), node->scalar) != names.end()) return node->scalar;
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  config::fail_at(*node, state.at(section + ".sink"),
                  "unknown sink '" + node->scalar + "'" +
                      config::did_you_mean(node->scalar, names) +
                      (known.empty() ? " (no sinks are declared under 'sinks:')"
                                     : " (declared: " + known + ")"));
}

void Runtime::Impl::build_logging(core::ComponentBuilder& builder, PassState& state) {
  ConfigNode* list = state.section("logging").find("sinks");
  std::vector<PartPtr<sdk::LogSink>> pool;
  if (state.previous) pool = state.previous->log_sinks;
  if (list && list->kind != ConfigNode::Kind::null) {
    if (list->kind != ConfigNode::Kind::sequence)
      config::fail_at(*list, state.at("logging.sinks"),
                      "expected a list of log sinks, e.g. [{type: console}]");
    for (std::size_t i = 0; i < list->items.size(); ++i)
      if (auto sink = visit_part<sdk::LogSink>(
              builder,
              {.node = &list->items[i],
               .where = state.at("logging.sinks[" + std::to_string(i) + "]")},
              state, &pool))
        state.gen->log_sinks.push_back(std::move(sink));
  }
  if (state.pass != Pass::build || state.reloading()) return;
  for (auto& sink : state.gen->log_sinks) log_engine->add_sink(sink->get());
  log_engine->start();
}

void Runtime::Impl::build_sinks(core::ComponentBuilder& builder, PassState& state) {
  ConfigNode& sinks = state.section("sinks");
  std::vector<std::shared_ptr<SinkPart>> pool;
  if (state.previous) pool = state.previous->record_sinks;
  if (sinks.kind != ConfigNode::Kind::null) {
    if (sinks.kind != ConfigNode::Kind::map)
      config::fail_at(sinks, state.at("sinks"),
                      "expected a map of named sinks, e.g. {console: {type: stdout}}");
    for (auto& entry : sinks.entries) {
      const std::string& name = entry.first;
      ConfigNode& node = entry.second;
      const NodeLocation where = state.at(config::child_path("sinks", name));
      const delivery::DeliveryOptions delivery_options = read_delivery_keys(node, where);
      state.sink_names.push_back(name);
      if (state.pass == Pass::build && state.reloading() &&
          builds(sdk::ComponentKind::record_sink)) {
        // The same name and options: the running sink carries on, its queue untouched.
        auto same = std::find_if(pool.begin(), pool.end(), [&](const auto& p) {
          return p && p->queue->name() == name && config::same_config(*p->node, node);
        });
        if (same != pool.end()) {
          state.gen->record_sinks.push_back(std::exchange(*same, nullptr));
          state.gen->sink_table.built.emplace_back(name,
                                                   state.gen->record_sinks.back()->queue.get());
          continue;
        }
        // Two queues cannot share a spool directory: the running one holds it until it closes.
        if (!delivery_options.spool.path.empty())
          for (const auto& p : pool)
            if (p && p->queue->name() == name && p->queue->spooled())
              config::fail_at(node, where,
                              "a sink with a spool changes only at a restart (the running "
                              "sink holds the spool directory)");
      }
      std::vector<std::string> host_keys(std::begin(delivery::kDeliveryKeys),
                                         std::end(delivery::kDeliveryKeys));
      auto sink = visit<sdk::RecordSink>(
          builder, {.node = &node, .where = where, .name = name, .reserved = host_keys}, state);
      if (!sink) continue;
      auto part = std::make_shared<SinkPart>();
      part->tree = state.gen->tree;
      part->node = &node;
      try {
        part->queue = std::make_shared<delivery::DeliveryQueue>(
            name, std::move(sink), delivery_options, logger("delivery"));
      } catch (const delivery::SpoolError& e) {
        throw StartupError(
            sdk::ConfigView(node.find("spool"), where.file, where.path + ".spool").where() + ": " +
            e.what());
      }
      state.gen->record_sinks.push_back(part);
      state.gen->sink_table.built.emplace_back(name, part->queue.get());
    }
  }
  if (state.pass == Pass::build && state.reloading())
    for (const auto& p : pool)
      if (p) state.replaced_sinks.push_back(p->queue->name());
  // Until (or unless) they are built, the names answer lookups of components being checked.
  if (state.pass == Pass::check) state.gen->sink_table.unbuilt = state.sink_names;
  if (state.pass == Pass::build) {
    if (builds(sdk::ComponentKind::record_sink)) state.gen->sink_table.unbuilt.clear();
    if (!state.reloading()) host->set_record_sinks(state.gen->sink_table);
  }
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
  ConfigNode& breakers_node = state.section("breakers");
  state.gen->breaker_config = read_breaker_config(breakers_node, state.at("breakers"));
  std::vector<PartPtr<sdk::BreakerBackend>> pool;
  if (state.previous && state.previous->breaker_backend)
    pool.push_back(state.previous->breaker_backend);
  state.gen->breaker_backend =
      visit_part<sdk::BreakerBackend>(builder,
                                      {.node = breakers_node.find("backend"),
                                       .where = state.at("breakers.backend"),
                                       .name = "breakers"},
                                      state, &pool);
  if (!state.gen->breaker_backend || state.reloading()) return;
  const BreakerConfig& config = state.gen->breaker_config;
  breakers = std::make_unique<BreakerRegistry>(
      *state.gen->breaker_backend->get(), config.defaults, config.overrides, logger("breaker"),
      *clock_source, event_bus.get(), kMaxResourceKeyBytes, breaker_instance(config));
}

std::string Runtime::Impl::breaker_instance(const BreakerConfig& config) const {
  if (!config.instance.empty()) return config.instance;
  const ServiceInfo self = ServiceInfo::current(std::string(host->service_name()));
  const std::string tail = "/" + self.host + "/" + std::to_string(self.pid);
  // Within the backends' limit whatever the service's name: the host and pid keep it unique.
  const std::size_t room =
      sdk::kMaxBreakerInstanceBytes > tail.size() ? sdk::kMaxBreakerInstanceBytes - tail.size() : 0;
  return (self.name.substr(0, room) + tail).substr(0, sdk::kMaxBreakerInstanceBytes);
}

void Runtime::Impl::build_rules(core::ComponentBuilder& builder, PassState& state) {
  rule_items(state.view("errors"));  // shape of each item, unique names
  ConfigNode* list = state.section("errors").find("rules");
  if (!list || list->kind != ConfigNode::Kind::sequence) return;
  std::vector<PartPtr<sdk::ExceptionRule>> pool;
  if (state.previous) pool = state.previous->rules;
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    ConfigNode& item = list->items[i];
    core::BuildRequest request{.node = &item,
                               .where = state.at("errors.rules[" + std::to_string(i) + "]")};
    if (item.find("type"))
      request.options_key = "options";
    else
      request.type_override = std::string(kDeclarativeRuleType);
    if (auto rule = visit_part<sdk::ExceptionRule>(builder, request, state, &pool))
      state.gen->rules.push_back(std::move(rule));
  }
}

void Runtime::Impl::build_dispatcher(PassState& state) {
  ErrorsOptions errors_options = parse_errors_options(state.view("errors"));
  const std::string sink_for_errors = sink_name("errors", state);
  // The host's own parts are built with the record sinks they publish to.
  if (state.pass != Pass::build || !builds(sdk::ComponentKind::record_sink)) return;
  if (!errors_options.utc_offset) errors_options.utc_offset = state.gen->log_options.utc_offset;
  state.gen->errors_options = errors_options;
  state.gen->errors_sink = sink_for_errors;
  if (state.reloading()) return;
  sdk::RecordSink* sink = sink_for_errors.empty() ? nullptr : gen->record_sink(sink_for_errors);
  if (!sink) logger("errors").info("error reports are not published (no errors.sink)");
  std::vector<const sdk::ExceptionRule*> rule_ptrs;
  for (const auto& r : gen->rules) rule_ptrs.push_back(r->get());
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
  metrics::MetricsOptions metrics_options = metrics::parse_metrics_options(state.view("metrics"));
  const std::string sink_for_metrics = sink_name("metrics", state);
  if (state.pass != Pass::build || !builds(sdk::ComponentKind::record_sink)) return;
  state.gen->metrics_options = metrics_options;
  state.gen->metrics_sink = sink_for_metrics;
  if (state.reloading()) return;
  sdk::RecordSink* sink = sink_for_metrics.empty() ? nullptr : gen->record_sink(sink_for_metrics);
  const sdk::Clock& clock = options.clock ? *clock_source : counter_clock;
  metrics = std::make_unique<metrics::MetricsService>(
      metrics_options, sink, clock, *event_bus, logger("metrics"),
      [this](sdk::ErrorEvent e) { host->report_error(std::move(e)); });
  metrics->start();
}

void Runtime::Impl::build_handlers(core::ComponentBuilder& builder, PassState& state) {
  ConfigNode& list = state.section("handlers");
  if (list.kind != ConfigNode::Kind::sequence) return;  // the schema allows only a list
  std::vector<std::shared_ptr<HandlerPart>> pool;
  if (state.previous) pool = state.previous->handlers;
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    NodeLocation where = state.at("handlers[" + std::to_string(i) + "]");
    auto events =
        handler_events(sdk::ConfigView(&list.items[i], where.file, where.path), event_names);
    auto handler = visit_part<sdk::EventHandler, HandlerPart>(
        builder,
        {.node = &list.items[i], .where = where, .options_key = "options", .reserved = {"on"}},
        state, &pool);
    if (!handler) continue;
    handler->events = std::move(events);
    // A reload subscribes its new handlers when it commits.
    if (!state.reloading())
      handler->subscriptions = bind_handler(*event_bus, *handler->get(), handler->events);
    state.gen->handlers.push_back(std::move(handler));
  }
}

void Runtime::Impl::build_inputs(core::ComponentBuilder& builder, PassState& state) {
  ConfigNode& list = state.section("inputs");
  if (list.kind == ConfigNode::Kind::null) return;
  if (list.kind != ConfigNode::Kind::sequence)
    config::fail_at(list, state.at("inputs"), "expected a list of inputs");
  std::vector<PartPtr<sdk::Input>> pool;
  if (state.previous) pool = state.previous->inputs;
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    ConfigNode& item = list.items[i];
    const core::BuildRequest request{.node = &item,
                                     .where = state.at("inputs[" + std::to_string(i) + "]"),
                                     .reserved = core::input_key_names(options.extension)};
    core::check_input_keys(item, request.where, options.extension);
    if (auto input = visit_part<sdk::Input>(builder, request, state, &pool))
      state.gen->inputs.push_back(std::move(input));
  }
}

// ---- reloads ------------------------------------------------------------------------------

void Runtime::Impl::refuse_restart_only_changes(const config::LoadedTree& next) const {
  std::vector<std::string> keys(std::begin(kRestartOnlyKeys), std::end(kRestartOnlyKeys));
  for (const auto& section : options.extension.sections) keys.push_back(section.key);
  for (const auto& key : keys) {
    const ConfigNode* was = &tree().root;
    const ConfigNode* now = &next.root;
    std::string_view rest = key;
    while (was && now && !rest.empty()) {
      const std::size_t dot = rest.find('.');
      const std::string part(rest.substr(0, dot));
      was = was->find(part);
      now = now->find(part);
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    static const ConfigNode absent{};
    if (config::same_config(was ? *was : absent, now ? *now : absent)) continue;
    config::fail_at(now ? *now : next.root, {next.file, key},
                    "changes only at a restart (the running configuration is kept)");
  }
}

ReloadOutcome Runtime::Impl::reload_now() {
  std::lock_guard serial(reload_mu);
  if (shut_down) return {false, "the runtime is stopping"};
  if (config_path.empty()) return {false, "built from a string: there is no file to reload"};
  if (readiness.load() == Readiness::stopping) return {false, "the runtime is stopping"};
  if (options.build == BuildScope::agent && input_runner == nullptr)
    return {false, "the inputs are not running (the agent has not started, or is stopping)"};
  if (!builds(sdk::ComponentKind::record_sink))
    return {false, "this runtime's scope builds no components to reload"};
  Readiness before = readiness.load();
  do {
    if (before == Readiness::stopping) return {false, "the runtime is stopping"};
  } while (!readiness.compare_exchange_weak(before, Readiness::reloading));
  notify_readiness(Readiness::reloading);
  auto& log = logger("runtime");
  ReloadOutcome outcome;
  try {
    auto next = std::make_shared<Generation>();
    next->tree = std::make_shared<config::LoadedTree>(config::load_yaml_file(config_path));
    PassState check{Pass::check, next.get()};
    validate(check);
    refuse_restart_only_changes(*next->tree);
    core::ComponentBuilder builder(plugins, *host);
    PassState build{Pass::build, next.get()};
    build.previous = gen.get();
    {
      core::RuntimeHost::StagedSinks staged(next->sink_table);
      walk(builder, check);
      walk(builder, build);
    }
    try {
      commit(next);
    } catch (const std::exception& e) {
      // Out of memory or threads half way through the swap: what was swapped in points into
      // `next`, which must stay; say that the configuration is mixed.
      retired.push_back(next);
      throw std::runtime_error(std::string("the reload failed while it was applied (part of "
                                           "the new configuration may be in effect): ") +
                               e.what());
    }
    outcome = {true, "configuration reloaded"};
    reload_successes.fetch_add(1);
    last_reload_success_s.store(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
    log.info("configuration reloaded", {{"file", config_path}});
  } catch (const std::exception& e) {
    outcome = {false, e.what()};
    reload_failures.fetch_add(1);
    log.error("configuration not reloaded", {{"error", e.what()}});
  }
  // A stop may have begun meanwhile (mark_stopping): that stays.
  Readiness expected = Readiness::reloading;
  if (readiness.compare_exchange_strong(expected, before)) notify_readiness(before);
  return outcome;
}

std::vector<RuntimeInput> Runtime::Impl::input_list(
    const Generation& g, const std::vector<PartPtr<sdk::Input>>& inputs) const {
  std::vector<RuntimeInput> out;
  for (const auto& p : inputs) {
    std::size_t index = 0;
    while (index < g.inputs.size() && g.inputs[index] != p) ++index;
    out.push_back(
        {p->get(), p->component.type(),
         sdk::ConfigView(p->node, p->tree->file, "inputs[" + std::to_string(index) + "]")});
  }
  return out;
}

void Runtime::Impl::commit(const std::shared_ptr<Generation>& next) {
  const std::shared_ptr<Generation> old = gen;
  auto kept = [](const auto& list, const auto& part) {
    return std::find(list.begin(), list.end(), part) != list.end();
  };
  std::vector<PartPtr<sdk::Input>> stopping, starting;
  for (const auto& i : old->inputs)
    if (!kept(next->inputs, i)) stopping.push_back(i);
  for (const auto& i : next->inputs)
    if (!kept(old->inputs, i)) starting.push_back(i);
  std::vector<std::shared_ptr<SinkPart>> leaving;
  for (const auto& s : old->record_sinks)
    if (!kept(next->record_sinks, s)) leaving.push_back(s);
  // The replaced sinks stay alive (closed) until stop(), and count under their name, from
  // the moment the new ones are looked up.
  {
    std::lock_guard lock(report_mu);
    for (const auto& s : leaving) replaced_sinks.push_back(s);
  }
  // Lookups at run time find the new sinks; the old ones still take what is published now.
  host->set_record_sinks(next->sink_table);
  std::vector<sdk::LogSink*> log_sinks;
  for (const auto& s : next->log_sinks) log_sinks.push_back(s->get());
  // The old log sinks may still be in the logging thread's hands: keep them (and what they
  // publish to) until stop().
  if (!log_engine->reconfigure(next->log_options, log_sinks, std::chrono::seconds(5)))
    retired.push_back(old);
  if (breakers && next->breaker_backend) {
    if (next->breaker_backend != old->breaker_backend) {
      logger("breaker").warning("breakers.backend changed: breakers start fresh",
                                {{"backend", next->breaker_backend->component.type()}});
      retired.push_back(old->breaker_backend);  // an operation may still be using it
    }
    breakers->reconfigure(*next->breaker_backend->get(), next->breaker_config.defaults,
                          next->breaker_config.overrides, breaker_instance(next->breaker_config));
  }
  if (dispatcher) {
    std::vector<const sdk::ExceptionRule*> rule_ptrs;
    for (const auto& r : next->rules) rule_ptrs.push_back(r->get());
    dispatcher->reconfigure(
        next->errors_options, std::move(rule_ptrs),
        next->errors_sink.empty() ? nullptr : next->record_sink(next->errors_sink));
  }
  if (metrics)
    metrics->reconfigure(next->metrics_options, next->metrics_sink.empty()
                                                    ? nullptr
                                                    : next->record_sink(next->metrics_sink));
  for (auto& h : old->handlers)
    if (!kept(next->handlers, h)) h->subscriptions.clear();
  for (auto& h : next->handlers)
    if (h->subscriptions.empty() && !h->events.empty())
      h->subscriptions = bind_handler(*event_bus, *h->get(), h->events);
  if (input_runner && (!stopping.empty() || !starting.empty()))
    input_runner->replace_inputs(input_list(*old, stopping), input_list(*next, starting));
  {
    std::lock_guard lock(report_mu);
    gen = next;
    for (const auto& s : old->log_sinks)
      if (!kept(next->log_sinks, s)) retired_log_failures += s->get()->failures();
  }
  // What the replaced sinks hold is delivered before they close.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (auto& s : leaving) retire_sink(*s, until);
}

void Runtime::Impl::retire_sink(SinkPart& sink, std::chrono::steady_clock::time_point until) {
  delivery::DeliveryQueue& q = *sink.queue;
  q.stop_blocking(until);  // a publisher waiting for room in it is refused by then
  if (!q.flush(until))
    logger("delivery")
        .warning("a replaced sink did not deliver everything before it closed",
                 {{"sink", q.name()}});
  q.close();
}

void Runtime::Impl::run_reload_thread() {
  std::unique_lock lock(request_mu);
  for (;;) {
    request_cv.wait(lock, [&] { return reload_thread_stop || reloads_requested > reloads_done; });
    if (reload_thread_stop) return;
    // Every request made until now is served by this one reload.
    const std::uint64_t serving = reloads_requested;
    lock.unlock();
    ReloadOutcome outcome = reload_now();
    lock.lock();
    reloads_done = serving;
    last_outcome = std::move(outcome);
    request_cv.notify_all();
  }
}

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runtime::~Runtime() {
  shutdown();
}

std::unique_ptr<Runtime> Runtime::from_file(const std::string& path, RuntimeOptions options) {
  return std::unique_ptr<Runtime>(
      new Runtime(Impl::create(config::load_yaml_file(path), std::move(options), path)));
}

std::unique_ptr<Runtime> Runtime::from_string(std::string_view yaml, const std::string& name,
                                              RuntimeOptions options) {
  return std::unique_ptr<Runtime>(
      new Runtime(Impl::create(config::parse_yaml_tree(yaml, name), std::move(options), "")));
}

ReloadOutcome Runtime::reload() {
  return impl_->reload_request();
}

ReloadOutcome Runtime::Impl::reload_request() {
  std::unique_lock lock(request_mu);
  if (!reload_thread_running) {
    lock.unlock();
    return reload_now();  // no reload thread (a string, or a scope without sinks)
  }
  const std::uint64_t ticket = ++reloads_requested;
  request_cv.notify_all();
  request_cv.wait(lock, [&] { return reloads_done >= ticket; });
  return last_outcome;
}

void Runtime::set_metrics_collector(MetricsCollector collector) {
  std::lock_guard lock(impl_->collector_mu);
  impl_->collector = std::move(collector);
}

std::string Runtime::prometheus_metrics() const {
  return impl_->render_metrics();
}

std::string Runtime::Impl::render_metrics() {
  std::vector<MetricFamily> families = admin::runtime_metric_families(figures());
  {
    std::lock_guard lock(collector_mu);
    if (collector) collector(families);
  }
  for (auto& f : admin::process_metric_families()) families.push_back(std::move(f));
  return admin::render_prometheus(families);
}

std::string Runtime::admin_address() const {
  return impl_->admin ? impl_->admin->address() : "";
}

void Runtime::mark_stopping() {
  impl_->set_readiness(Readiness::stopping);
}

void Runtime::request_reload() {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.request_mu);
    if (!impl.reload_thread_running) return;
    ++impl.reloads_requested;
  }
  impl.request_cv.notify_all();
}

void Runtime::set_input_runner(InputRunner* runner) {
  std::lock_guard serial(impl_->reload_mu);
  impl_->input_runner = runner;
}

void Runtime::mark_ready() {
  Readiness expected = Readiness::starting;
  if (impl_->readiness.compare_exchange_strong(expected, Readiness::ready))
    impl_->notify_readiness(Readiness::ready);
}

void Runtime::set_readiness_listener(std::function<void(Readiness)> listener) {
  std::lock_guard lock(impl_->listener_mu);
  impl_->readiness_listener = std::move(listener);
}

Readiness Runtime::readiness() const {
  return impl_->readiness.load();
}

ReloadStats Runtime::reload_stats() const {
  return {impl_->reload_successes.load(), impl_->reload_failures.load(),
          impl_->last_reload_success_s.load()};
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

bool Runtime::flush(std::chrono::milliseconds timeout) {
  return impl_->log_engine->flush(timeout);
}

sdk::ConfigView Runtime::config_section(std::string_view name) const {
  static const ConfigNode empty{};
  const ConfigNode* n = impl_->tree().root.find(name);
  return sdk::ConfigView(n ? n : &empty, impl_->tree().file, std::string(name));
}

std::vector<RuntimeInput> Runtime::inputs() const {
  return impl_->input_list(*impl_->gen, impl_->gen->inputs);
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
  std::uint64_t n = impl_->retired_log_failures;
  if (impl_->gen)
    for (const auto& s : impl_->gen->log_sinks) n += s->get()->failures();
  return n;
}

namespace {
MetricsTotals totals_of(const metrics::MetricsStats& s) {
  return {s.published_batches, s.published_increments, s.dropped_increments,
          s.counters_live,     s.counters_released,    s.increments_refused};
}
}  // namespace

BreakerTotals Runtime::breaker_totals() const {
  BreakerRegistryStats s;
  {
    std::lock_guard lock(impl_->report_mu);
    s = impl_->breakers ? impl_->breakers->stats() : impl_->final_breakers;
  }
  return {s.keys_too_long, s.degraded};
}

BreakerTransitions Runtime::breaker_transitions() const {
  BreakerRegistryStats s;
  {
    std::lock_guard lock(impl_->report_mu);
    s = impl_->breakers ? impl_->breakers->stats() : impl_->final_breakers;
  }
  auto to = [&](sdk::BreakerState state) {
    return s.transitions_to[static_cast<std::size_t>(state)];
  };
  return {to(sdk::BreakerState::closed), to(sdk::BreakerState::open),
          to(sdk::BreakerState::half_open)};
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

std::vector<Runtime::Impl::SinkCounts> Runtime::Impl::sink_counts() const {
  std::vector<SinkCounts> out;
  auto add = [&out](const delivery::DeliveryQueue& q) {
    auto it = std::find_if(out.begin(), out.end(), [&](auto& s) { return s.name == q.name(); });
    if (it == out.end()) {
      out.push_back({q.name(), q.counts(), q.last_failure()});
      return;
    }
    add_counts(it->counts, q.counts());
    if (it->reason.empty()) it->reason = q.last_failure();
  };
  if (gen)
    for (const auto& part : gen->record_sinks) add(*part->queue);
  for (const auto& part : replaced_sinks) add(*part->queue);  // what a reload replaced
  return out;
}

DeliveryReport Runtime::Impl::live_report() const {
  DeliveryReport report;
  for (const auto& [name, c, reason] : sink_counts()) {
    SinkDelivery s;
    s.sink = name;
    s.accepted = c.accepted;
    s.delivered = c.delivered;
    s.lost = c.lost();
    s.spooled = c.left_in_spool;
    s.waiting = c.waiting;
    s.recovered = c.recovered;
    s.corrupt_bytes = c.corrupt_bytes;
    s.reason = reason;
    report.sinks.push_back(std::move(s));
  }
  return report;
}

std::vector<std::string> Runtime::breaker_keys() {
  if (!impl_->gen->breaker_backend) impl_->built(impl_->breakers, "the breaker backend");
  return impl_->gen->breaker_backend->get()->keys();
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
  return config::print_yaml(impl_->tree().root);
}

std::vector<ConnectionCheck> Runtime::check_connections(std::chrono::milliseconds timeout) {
  std::vector<ConnectionCheck> out;
  core::ComponentBuilder builder(impl_->plugins, *impl_->host);
  std::lock_guard serial(impl_->reload_mu);
  // Walked on a copy: a walk fills in what a section leaves out.
  Generation scratch;
  scratch.tree = std::make_shared<config::LoadedTree>(impl_->tree());
  Impl::PassState probe{Impl::Pass::probe, &scratch, timeout, &out};
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
  {
    // A full store of undelivered records makes publishers wait no longer than the deadline:
    // a reload or a scrape waiting for one of them ends too.
    const auto until = std::chrono::steady_clock::now() + deadline;
    std::lock_guard lock(report_mu);
    if (gen)
      for (auto& s : gen->record_sinks) s->queue->stop_blocking(until);
  }
  {
    std::lock_guard lock(request_mu);
    reload_thread_stop = true;
    reload_thread_running = false;
  }
  request_cv.notify_all();
  if (reload_thread.joinable()) reload_thread.join();
  {
    // Whoever waits in reload() gets an answer.
    std::lock_guard lock(request_mu);
    if (reloads_done < reloads_requested) {
      reloads_done = reloads_requested;
      last_outcome = {false, "the runtime is stopping"};
    }
  }
  request_cv.notify_all();
  if (readiness.load() != Readiness::stopping) set_readiness(Readiness::stopping);
  admin.reset();                      // requests under way (a reload among them) end first
  std::lock_guard serial(reload_mu);  // a reload() under way on another thread ends first
  if (shut_down) return true;
  shut_down = true;
  auto until = std::chrono::steady_clock::now() + deadline;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        until - std::chrono::steady_clock::now()));
  };
  bool ok = true;
  if (!gen) return ok;
  auto& record_sinks = gen->record_sinks;
  // A full store of undelivered records makes publishers wait no longer than the deadline.
  for (auto& s : record_sinks) s->queue->stop_blocking(until);
  gen->inputs.clear();
  housekeeping.reset();
  // Drain what the application emitted, publish what is pending (the current minute, held
  // duplicates), drain what that emitted, then flush the sinks.
  if (event_bus) ok = event_bus->drain(left()) && ok;
  if (metrics) ok = metrics->shutdown(until) && ok;
  if (dispatcher) dispatcher->shutdown();
  if (event_bus) ok = event_bus->drain(left()) && ok;
  if (log_engine) log_engine->flush(left());  // log records bound for a `record` log sink
  for (auto& s : record_sinks) s->queue->flush(until);
  // Close the sinks: what is still undelivered stays in a spool or is counted as lost. Errors
  // their plugins report while they stop are logged, not published into closed queues.
  if (host) host->detach_dispatcher();
  for (auto it = record_sinks.rbegin(); it != record_sinks.rend(); ++it) (*it)->queue->close();
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
  gen->handlers.clear();
  {
    std::lock_guard lock(report_mu);
    if (metrics) final_metrics = totals_of(metrics->stats());
    metrics.reset();
  }
  dispatcher.reset();
  gen->rules.clear();
  {
    // breaker_totals() may be asked from another thread while the runtime stops.
    std::lock_guard lock(report_mu);
    if (breakers) final_breakers = breakers->stats();
    breakers.reset();
  }
  gen->breaker_backend.reset();
  event_bus.reset();
  // Logging goes last but for the closed queues a `record` log sink may still hold: everything
  // above may still log. After this, records go to stderr.
  if (log_engine) log_engine->shutdown();
  {
    std::lock_guard lock(report_mu);
    for (const auto& s : gen->log_sinks) retired_log_failures += s->get()->failures();
    gen->log_sinks.clear();
  }
  retired.clear();
  {
    std::lock_guard lock(report_mu);
    record_sinks.clear();
    replaced_sinks.clear();
  }
  return ok;
}

}  // namespace crosscut
