// Error routing: the ErrorDispatcher normalises an error, runs the exception
// rules, records breaker failures, publishes the error DTO and suppresses duplicates.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crosscut/export.hpp"
#include "crosscut/sdk/breaker.hpp"
#include "crosscut/sdk/bus.hpp"
#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/events.hpp"
#include "crosscut/sdk/exception_rule.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/record_sink.hpp"

namespace crosscut {

// ---- configuration: the `errors:` section -------------------------------------------------

struct ErrorsOptions {
  std::string sink;  // a name under `sinks:`; empty: error reports are not published
  std::string topic = "ws.error";
  // UTC offset of DTO timestamps (`errors.timezone`). nullopt: not configured here; the runtime
  // passes logging.timezone's offset instead, else +00:00 is used.
  std::optional<std::chrono::minutes> utc_offset;
};

// The `service` object of the DTO.
struct CROSSCUT_API ServiceInfo {
  std::string name;
  std::string host;
  std::int64_t pid = 0;
  // This process: gethostname() and getpid().
  static ServiceInfo current(std::string name);
};

// ---- the dispatcher -----------------------------------------------------------------------

// Records one failure on the breaker of `resource_key` and returns its state afterwards, or
// nullopt when the key has no breaker. May throw; the dispatcher logs and counts that.
using BreakerRecorder =
    std::function<std::optional<sdk::BreakerState>(const std::string& resource_key)>;

struct DispatcherParts {
  sdk::Logger& log;
  const sdk::Clock& clock;
  // Ordered; first match wins. Owned by the caller; they must outlive the dispatcher.
  std::vector<const sdk::ExceptionRule*> rules;
  sdk::RecordSink* sink = nullptr;  // nullable: nothing is published
  sdk::EventBus* bus = nullptr;     // nullable: no ErrorEvent is emitted
  BreakerRecorder breaker;          // empty: no breaker
  ServiceInfo service;
};

struct DispatcherStats {
  std::uint64_t seen = 0;              // dispatch() calls that were processed
  std::uint64_t published = 0;         // DTOs accepted by the sink
  std::uint64_t represented = 0;       // sum of 1 + duplicates over published DTOs
  std::uint64_t suppressed = 0;        // errors held back as duplicates
  std::uint64_t not_published = 0;     // errors whose decision was publish: false, or no sink
  std::uint64_t publish_failures = 0;  // sink refused or threw
  std::uint64_t rule_failures = 0;     // a rule's evaluate() threw
  std::uint64_t breaker_failures = 0;  // the breaker recorder threw
  std::uint64_t reentrant = 0;         // errors raised while publishing an error: logged only
};

// Thread-safety: every member may be called from any thread concurrently.
//
// dispatch(): normalise (missing parts become "unknown"; no timestamp: the clock's now; no
// correlation id: crosscut::current_correlation_id()), run the rules, record a breaker
// failure (breaker: trip), log the error at its severity, emit the ErrorEvent on the bus
// (with the decided kind; not when called from an `error` handler, so a handler cannot loop),
// and publish the DTO to the sink (topic, key = resource key, RecordOrigin::error_report)
// unless the decision says publish: false or the error is a duplicate inside suppress_for.
//
// Duplicates (same kind, resource key and exception type inside suppress_for of the last
// published one) are held; when the period ends the latest is published with `duplicates` =
// the others held since. Periods are closed by later dispatch() calls, by
// flush_expired() (call it periodically, e.g. every second) and by shutdown().
//
// An error raised while publishing (the sink throws or returns false) is logged and counted;
// a dispatch() made on the same thread from inside the sink's publish() is logged and
// counted as `reentrant` and goes no further.
class CROSSCUT_API ErrorDispatcher {
 public:
  ErrorDispatcher(ErrorsOptions options, DispatcherParts parts);
  ~ErrorDispatcher();
  ErrorDispatcher(const ErrorDispatcher&) = delete;
  ErrorDispatcher& operator=(const ErrorDispatcher&) = delete;

  void dispatch(const std::exception& e, std::string kind, sdk::Target target,
                sdk::Value context = {});
  void dispatch(std::exception_ptr e, std::string kind, sdk::Target target,
                sdk::Value context = {});
  void dispatch(sdk::ErrorEvent event);

  // A reloaded `errors` section with its rules and sink (as in DispatcherParts) for every
  // later dispatch. Returns once no dispatch uses the old rules, which may then be
  // destroyed; the old sink may still see a publish that began before (keep it alive,
  // closed). Held duplicates and stats carry over. Not to be called from a rule or a sink.
  void reconfigure(ErrorsOptions options, std::vector<const sdk::ExceptionRule*> rules,
                   sdk::RecordSink* sink);

  // Publishes the held duplicates whose period has ended.
  void flush_expired();
  // Publishes every held duplicate now (at shutdown). Dispatching afterwards still works.
  void shutdown();

  DispatcherStats stats() const;
  // Errors dispatched, by the kind decided for them (at most 64 kinds; the rest as "other").
  std::vector<std::pair<std::string, std::uint64_t>> dispatched_by_kind() const;
  const ErrorsOptions& options() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crosscut
