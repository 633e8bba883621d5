// crosscut::Runtime: everything wired from one YAML file.
//
//   auto rt = crosscut::Runtime::from_file("crosscut.yaml");
//   auto breaker = rt->breaker("upbit/korea/ticker");
//
// Construction loads the configuration and the plugins and builds every component; any
// problem throws ConfigurationError (bad configuration, exit code 2 in the CLI) or
// StartupError (a component could not start, exit code 1), each with a one-line message.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "crosscut/breaker.hpp"
#include "crosscut/bus.hpp"
#include "crosscut/counter.hpp"
#include "crosscut/errors.hpp"
#include "crosscut/export.hpp"
#include "crosscut/logger.hpp"
#include "crosscut/sdk/sdk.hpp"

namespace crosscut {

// Configuration problems: "file:line:column: key.path: problem".
using ConfigurationError = sdk::ConfigError;

class CROSSCUT_API StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Configuration that an application built on the runtime reads itself (the agent's `agent:`
// section and the keys it reads on each `inputs:` item). The runtime validates it with the rest
// of the file (unknown keys, types, defaults, file:line:column), so that `validate` and a start
// refuse the same things.
struct ConfigExtension {
  sdk::ConfigSchema sections;    // top-level sections besides the host's own
  sdk::ConfigSchema input_keys;  // keys of each `inputs:` item besides the input plugin's
  // Called with each `inputs:` item once its keys are validated (defaults filled in), for what
  // a schema cannot state; throws sdk::ConfigError at the offending key.
  std::function<void(const sdk::ConfigView& item)> check_input;
};

// What a runtime builds. Whatever the scope, the whole configuration is checked first, every
// component's options included, before anything is built: a configuration one scope refuses,
// every scope refuses, with the same message.
enum class BuildScope {
  // Nothing is built: no plugin component is created, so no file is opened or truncated and
  // no server contacted (`crosscut validate`). Only the configuration accessors work.
  check_only,
  // Only the breaker backend and the breakers (`crosscut breaker ...`): sinks, rules, handlers
  // and inputs are checked, not built; errors(), counter() and record sinks are unavailable.
  breakers,
  // Every component but the inputs, which are checked only (an application embedding crosscut).
  components,
  // Every component and the inputs (`crosscut run`).
  agent,
};

struct RuntimeOptions {
  // Searched after CROSSCUT_PLUGIN_PATH and before plugins.paths (the CLI's --path).
  std::vector<std::string> plugin_paths;
  // Time source; null means the system clock. Must outlive the runtime.
  const sdk::Clock* clock = nullptr;
  BuildScope build = BuildScope::components;
  // Log only warnings and above, whatever the configuration says (one-shot commands such as
  // `crosscut validate`, whose stderr should carry nothing but problems).
  bool quiet = false;
  // Sections and input keys of the embedding application.
  ConfigExtension extension;
};

// An input built for agent mode, with its item of the `inputs:` list (the extension's input
// keys included).
struct RuntimeInput {
  sdk::Input* input = nullptr;
  std::string type;
  sdk::ConfigView item;
};

// What one record sink did with the records it accepted.
struct SinkDelivery {
  std::string sink;                 // its name under `sinks:`
  std::uint64_t accepted = 0;       // publishes it took
  std::uint64_t delivered = 0;      // confirmed by the destination
  std::uint64_t lost = 0;           // will never be delivered: failed for good, dropped, refused,
                                    // or (without a spool) undelivered at shutdown
  std::uint64_t spooled = 0;        // undelivered, kept in the spool for the next run
  std::uint64_t waiting = 0;        // not yet delivered (before shutdown)
  std::uint64_t recovered = 0;      // found in the spool from an earlier run
  std::uint64_t corrupt_bytes = 0;  // of the spool, skipped when it was opened
  std::string reason;               // the destination's last failure, "" when none
};

// What the metrics service handed to its sink so far.
struct MetricsTotals {
  std::uint64_t published_batches = 0;
  std::uint64_t published_increments = 0;  // the counts those batches carry
  std::uint64_t dropped_increments = 0;    // lost: the sink refused them until shutdown
  std::uint64_t counters_live = 0;         // counters held now
  std::uint64_t counters_released = 0;     // of targets named by input, released once idle
  std::uint64_t refused_increments = 0;    // count() refused: a target field too long
};

// What the breaker registry answered without the backend's store.
struct BreakerTotals {
  std::uint64_t keys_too_long = 0;  // operations on keys over the length limit
  std::uint64_t degraded = 0;       // answered by a fallback (store full, Redis unreachable)
};

// Transitions this process's breakers made, by the state they entered.
struct BreakerTransitions {
  std::uint64_t to_closed = 0;
  std::uint64_t to_open = 0;
  std::uint64_t to_half_open = 0;
};

// What a reload did: `message` is "configuration reloaded", or the one-line reason the running
// configuration was kept ("crosscut.yaml:12:7: errors.rules[0].match: ...").
struct ReloadOutcome {
  bool ok = false;
  std::string message;
};

struct ReloadStats {
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::int64_t last_success_unix_s = 0;  // the start counts as one
};

// Where the runtime is, as `GET /ready` tells it.
enum class Readiness : std::uint8_t {
  starting,  // building, or (agent scope) until the inputs run
  ready,
  reloading,  // building the next configuration beside the running one
  stopping,
};

// What runs the inputs of BuildScope::agent (the agent). A reload calls it, on the reloading
// thread, with the inputs whose configuration changed or went (destroyed once it returns: it
// must have stopped them) and the ones it built for the new configuration (to start).
class InputRunner {
 public:
  virtual ~InputRunner() = default;
  virtual void replace_inputs(const std::vector<RuntimeInput>& stopping,
                              const std::vector<RuntimeInput>& starting) = 0;
};

// Samples of one metric for `GET /metrics`, from the application embedding the runtime (the
// agent's per-input figures). Names follow Prometheus: a counter's ends in `_total`.
struct MetricFamily {
  enum class Type : std::uint8_t { counter, gauge };
  std::string name;
  std::string help;
  Type type = Type::counter;
  struct Sample {
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
  };
  std::vector<Sample> samples;
};
// Called on the admin endpoint's thread for each scrape; must be thread-safe.
using MetricsCollector = std::function<void(std::vector<MetricFamily>& out)>;

struct CROSSCUT_API DeliveryReport {
  std::vector<SinkDelivery> sinks;
  std::uint64_t lost() const;
  std::uint64_t spooled() const;
  // "1234 records not delivered (sink kafka-main: all brokers down); 0 spooled".
  std::string summary() const;
};

// One server a component's options name, and what contacting it found.
struct ConnectionCheck {
  std::string component;  // where it is configured: "breakers.backend", "sinks.kafka-main"
  std::string type;       // the component's type: "redis", "kafka"
  sdk::ServerCheck result;
};

struct LoadedPluginInfo {
  std::string name;
  std::string version;
  std::string file;
  const sdk::PluginDescriptor* descriptor = nullptr;
};

class CROSSCUT_API Runtime {
 public:
  static std::unique_ptr<Runtime> from_file(const std::string& path, RuntimeOptions options = {});
  static std::unique_ptr<Runtime> from_string(std::string_view yaml,
                                              const std::string& name = "<config>",
                                              RuntimeOptions options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // A logger (JSON lines through the configured sinks). The handle must not outlive the runtime.
  Logger logger(std::string_view name, std::string_view category = "app");
  // Asks log sinks to reopen their files (SIGHUP after an external rotation).
  void reopen_logs();
  // Waits until every record logged before the call has been written by the log sinks and
  // they have flushed; false when that took longer than `timeout`. Errors dispatched before
  // need no wait: dispatch() hands them to their sink before it returns. Thread-safe.
  bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // The event bus: bus().on<sdk::ErrorEvent>(handler), bus().emit(event).
  sdk::EventBus& bus();
  // The error dispatcher: errors().dispatch(exception, "ws_connection", target, context).
  ErrorDispatcher& errors();
  // The minute batch counter of a target, e.g.
  //   rt.counter({.exchange = "upbit", .region = "korea", .request_type =
  //   "ticker"}).increment("BTC");
  // The same object for the same target, valid for the runtime's lifetime: keep the reference.
  MinuteBatchCounter& counter(const sdk::Target& target);
  // One message of a target named by untrusted input (the agent's inputs): counted like an
  // increment of counter(target), but the state of a target is released once its minutes
  // are published and it has been idle for metrics.idle_release_after, so distinct targets
  // cost memory only while they send. False (nothing counted, the refusal counted) when a
  // field of `target` is longer than kMaxTargetFieldBytes. Thread-safe.
  bool count(const sdk::Target& target, std::string_view symbol,
             std::optional<std::int64_t> event_time_ms = std::nullopt);

  Breaker breaker(std::string_view resource_key);
  // Keys the breaker backend holds state for (empty when it cannot enumerate them).
  std::vector<std::string> breaker_keys();
  // A record sink declared under `sinks:`, or nullptr. Valid until a reload replaces it (it
  // is then closed: publishes are refused) and at most until the runtime stops.
  sdk::RecordSink* record_sink(std::string_view name);
  sdk::HostContext& host();
  const sdk::Clock& clock() const;

  // The effective configuration (defaults filled in) as YAML, secrets redacted.
  std::string effective_config() const;
  // One top-level section of the effective configuration (e.g. "agent"); the view is valid
  // until a reload swaps the configuration.
  sdk::ConfigView config_section(std::string_view name) const;
  // Inputs built with BuildScope::agent, in configuration order.
  std::vector<RuntimeInput> inputs() const;
  // Totals for the health record.
  BusStats bus_stats() const;
  std::uint64_t sink_failures() const;
  // What components counted through HostContext::add_metric() (e.g. the unix input's
  // `unix_input.clients_refused`), by name.
  std::map<std::string, std::int64_t> component_metrics() const;
  // Log records a log sink could not write (a closed stderr, a full disk); final after shutdown.
  std::uint64_t log_sink_failures() const;
  std::vector<LoadedPluginInfo> plugins() const;
  // Contacts every server the configuration names (through each plugin that can), each
  // within about `timeout`, creating nothing; works in every scope.
  std::vector<ConnectionCheck> check_connections(std::chrono::milliseconds timeout);
  MetricsTotals metrics_totals() const;
  BreakerTotals breaker_totals() const;
  BreakerTransitions breaker_transitions() const;
  // Every record sink's delivery figures: live while running, final once shutdown() flushed
  // and closed the sinks. Thread-safe, also during shutdown().
  DeliveryReport delivery_report() const;

  // Re-reads the configuration file and, when all of it is valid and every changed component
  // is built, swaps it in; otherwise the running configuration stays and the outcome says
  // why (also logged). Components whose configuration did not change carry on untouched;
  // counters, breaker state (unless the backend changed) and delivery figures carry over;
  // replaced record sinks deliver what they hold before they close. The sections `crosscut`,
  // `service`, `plugins`, `bus`, `admin`, `logging.queue`, `logging.crash_handler` and the
  // application's own sections change only at a restart. Thread-safe: concurrent calls and
  // request_reload() are served by one reload that starts after each call.
  ReloadOutcome reload();
  // Asks for a reload and returns at once (a signal-handling thread). Requests made while a
  // reload runs are merged into one more reload.
  void request_reload();
  // The agent, which runs the inputs a reload replaces. Null: none.
  void set_input_runner(InputRunner* runner);
  // The agent's inputs run: Readiness::ready (other scopes are ready once built).
  void mark_ready();
  // The agent stops: Readiness::stopping, and reloads are refused from now on.
  void mark_stopping();
  Readiness readiness() const;
  // Called with each new readiness, on the thread that changed it (systemd notification).
  void set_readiness_listener(std::function<void(Readiness)> listener);
  // Where the admin endpoint listens ("127.0.0.1:9464", its port resolved), "" when off.
  std::string admin_address() const;
  ReloadStats reload_stats() const;
  // What `GET /metrics` adds to the runtime's own metrics; empty: nothing. Replaces the last.
  void set_metrics_collector(MetricsCollector collector);
  // The Prometheus text exposition (format 0.0.4) of the runtime's metrics and the
  // collector's, as `GET /metrics` serves it.
  std::string prometheus_metrics() const;

  // Stops inputs, drains the bus, publishes what is pending and flushes sinks, all before
  // `deadline`; closes the sinks (what is undelivered stays in a spool, or is counted lost);
  // then destroys components and unloads plugins. Idempotent; the destructor calls it.
  // Returns false when something could not be flushed in time or records were lost.
  bool shutdown(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // The same; `after_close` runs once the sinks are closed and delivery_report() is final,
  // while loggers and the bus still work (the agent logs its last health record there).
  bool shutdown(std::chrono::milliseconds deadline, const std::function<void()>& after_close);

  struct Impl;

 private:
  explicit Runtime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crosscut
