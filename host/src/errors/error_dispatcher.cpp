#include <unistd.h>

#include <atomic>
#include <climits>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "core/exception_description.hpp"
#include "crosscut/bus.hpp"
#include "crosscut/errors.hpp"
#include "crosscut/log_context.hpp"
#include "errors/duplicate_suppressor.hpp"
#include "errors/error_dto.hpp"
#include "errors/error_id.hpp"

namespace crosscut {
namespace {

// Set while this thread is inside the sink's publish(): an error reported from there must not
// come back through the dispatcher.
thread_local bool t_publishing = false;

std::string or_unknown(std::string s) {
  if (s.empty()) return "unknown";
  return s;
}

void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

sdk::ErrorEvent error_event(sdk::ExceptionInfo info, std::exception_ptr exception, std::string kind,
                            sdk::Target target, sdk::Value context) {
  sdk::ErrorEvent event;
  event.info = std::move(info);
  event.exception = std::move(exception);
  event.kind = std::move(kind);
  event.target = std::move(target);
  event.context = std::move(context);
  return event;
}

}  // namespace

ServiceInfo ServiceInfo::current(std::string name) {
  ServiceInfo s;
  s.name = std::move(name);
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) == 0) s.host = host;
  s.pid = static_cast<std::int64_t>(getpid());
  return s;
}

class ErrorDispatcher::Impl {
 public:
  Impl(ErrorsOptions options, DispatcherParts parts)
      : options_(std::move(options)),
        parts_(std::move(parts)),
        offset_(options_.utc_offset.value_or(std::chrono::minutes(0))) {}

  void dispatch(sdk::ErrorEvent event) {
    if (t_publishing) {
      add(reentrant_);
      parts_.log.error("error raised while publishing an error report; not dispatched",
                       {{"kind", event.kind}, {"resource", event.target.resource_key()}});
      return;
    }
    add(seen_);
    const auto now = parts_.clock.now();
    if (suppressor_.maybe_expired(now)) publish_held(suppressor_.expired(now));

    ErrorRecord r = normalise(event, now);
    std::optional<sdk::Decision> decision;
    {
      std::shared_lock config(config_mu_);
      evaluate_rules(r, decision);
    }
    const sdk::Decision d = decision.value_or(sdk::Decision{});
    if (d.kind && !d.kind->empty()) r.kind = *d.kind;
    r.severity = d.severity.value_or(sdk::Severity::error);
    if (d.breaker.value_or(sdk::BreakerAction::trip) == sdk::BreakerAction::trip)
      record_breaker_failure(r);
    count_kind(r.kind);
    const bool publish = d.publish.value_or(true);
    const auto suppress_for = d.suppress_for.value_or(std::chrono::milliseconds(0));

    emit_on_bus(event, r);

    if (!publish || !has_sink()) {
      log_error(r);
      add(not_published_);
      return;
    }
    if (suppress_for.count() > 0) {
      const std::string key = r.kind + '\x1f' + r.resource_key + '\x1f' + r.exception.type;
      std::optional<DuplicateSuppressor::Held> ended;
      const bool now_publish = suppressor_.offer(key, r, now, suppress_for, ended);
      if (ended) publish_record(ended->record, ended->duplicates);
      if (!now_publish) {
        add(suppressed_);
        log_error_suppressed(key);
        return;
      }
    }
    log_error(r);
    publish_record(r, 0);
  }

  void reconfigure(ErrorsOptions options, std::vector<const sdk::ExceptionRule*> rules,
                   sdk::RecordSink* sink) {
    std::unique_lock config(config_mu_);
    offset_ = options.utc_offset.value_or(std::chrono::minutes(0));
    options_ = std::move(options);
    parts_.rules = std::move(rules);
    parts_.sink = sink;
  }

  void flush_expired() { publish_held(suppressor_.expired(parts_.clock.now())); }
  void shutdown() { publish_held(suppressor_.take_all()); }

  DispatcherStats stats() const {
    DispatcherStats s;
    s.seen = seen_.load();
    s.published = published_.load();
    s.represented = represented_.load();
    s.suppressed = suppressed_.load();
    s.not_published = not_published_.load();
    s.publish_failures = publish_failures_.load();
    s.rule_failures = rule_failures_.load();
    s.breaker_failures = breaker_failures_.load();
    s.reentrant = reentrant_.load();
    return s;
  }

  const ErrorsOptions& options() const { return options_; }

  std::vector<std::pair<std::string, std::uint64_t>> dispatched_by_kind() const {
    std::lock_guard lock(kinds_mu_);
    return {kinds_.begin(), kinds_.end()};
  }

 private:
  // Kinds come from callers and rules: a bounded number is told apart, the rest is "other".
  static constexpr std::size_t kMaxKinds = 64;
  void count_kind(const std::string& kind) {
    std::lock_guard lock(kinds_mu_);
    auto it = kinds_.find(kind);
    if (it == kinds_.end())
      it = kinds_.emplace(kinds_.size() < kMaxKinds ? kind : std::string("other"), 0).first;
    ++it->second;
  }

  ErrorRecord normalise(sdk::ErrorEvent& event, std::chrono::system_clock::time_point now) {
    ErrorRecord r;
    if (event.info.type.empty() && event.info.message.empty() && event.exception)
      event.info = core::describe_exception(event.exception);
    r.exception = std::move(event.info);
    if (r.exception.type.empty()) r.exception.type = "unknown";
    r.kind = or_unknown(event.kind);
    r.target.exchange = or_unknown(event.target.exchange);
    r.target.region = or_unknown(event.target.region);
    r.target.request_type = or_unknown(event.target.request_type);
    r.resource_key = r.target.resource_key();
    r.context = std::move(event.context);
    r.timestamp =
        event.timestamp == std::chrono::system_clock::time_point{} ? now : event.timestamp;
    r.correlation_id =
        event.correlation_id.empty() ? current_correlation_id() : std::move(event.correlation_id);
    return r;
  }

  void evaluate_rules(ErrorRecord& r, std::optional<sdk::Decision>& decision) {
    const sdk::ErrorView view{r.kind, r.exception, r.target, r.context};
    for (const sdk::ExceptionRule* rule : parts_.rules) {
      try {
        decision = rule->evaluate(view);
        if (decision) {
          r.rule = std::string(rule->name());
          return;
        }
      } catch (const std::exception& e) {
        rule_failed(rule, e.what());
      } catch (...) {
        rule_failed(rule, "unknown exception");
      }
    }
  }

  void rule_failed(const sdk::ExceptionRule* rule, std::string_view what) {
    add(rule_failures_);
    std::string_view name = "?";
    try {
      name = rule->name();
    } catch (...) {
    }
    parts_.log.error("exception rule threw; treated as no match",
                     {{"rule", name}, {"exception", what}});
  }

  void record_breaker_failure(ErrorRecord& r) {
    if (!parts_.breaker) return;
    try {
      r.breaker_state = parts_.breaker(r.resource_key);
    } catch (const std::exception& e) {
      add(breaker_failures_);
      parts_.log.error("recording a breaker failure failed",
                       {{"resource", r.resource_key}, {"exception", e.what()}});
    } catch (...) {
      add(breaker_failures_);
      parts_.log.error("recording a breaker failure failed",
                       {{"resource", r.resource_key}, {"exception", "unknown exception"}});
    }
  }

  void emit_on_bus(const sdk::ErrorEvent& original, const ErrorRecord& r) {
    // Errors reported by `error` handlers are published but not fed back to those handlers.
    if (parts_.bus == nullptr || current_bus_event() == sdk::ErrorEvent::name) return;
    sdk::ErrorEvent e;
    e.exception = original.exception;
    e.info = r.exception;
    e.kind = r.kind;
    e.target = r.target;
    e.context = r.context;
    e.timestamp = r.timestamp;
    e.correlation_id = r.correlation_id;
    parts_.bus->emit(std::move(e));
  }

  void log_error(const ErrorRecord& r) {
    const sdk::Level level = sdk::level_of(r.severity);
    if (!parts_.log.should_log(level)) return;
    parts_.log.log(level, "error dispatched",
                   {{"kind", r.kind},
                    {"resource", r.resource_key},
                    {"exception_type", r.exception.type},
                    {"exception_message", r.exception.message},
                    {"rule", r.rule.empty() ? std::string_view("") : std::string_view(r.rule)},
                    {"breaker_state",
                     r.breaker_state ? sdk::state_name(*r.breaker_state) : std::string_view("")},
                    {"correlation_id", r.correlation_id}});
  }

  void log_error_suppressed(const std::string& key) {
    if (!parts_.log.should_log(sdk::Level::debug)) return;
    parts_.log.debug("duplicate error suppressed", {{"key", key}});
  }

  void publish_held(const std::vector<DuplicateSuppressor::Held>& held) {
    for (auto& h : held) publish_record(h.record, h.duplicates);
  }

  bool has_sink() const {
    std::shared_lock config(config_mu_);
    return parts_.sink != nullptr;
  }

  // The sink and settings are read under a shared lock of config_mu_, the publish made
  // without it: a sink that blocks (a full queue) must not hold up a reload. A sink a reload
  // replaced stays alive, closed, so a publish that raced with it is refused, not lost unseen.
  void publish_record(const ErrorRecord& r, std::uint64_t duplicates) {
    sdk::RecordSink* sink = nullptr;
    std::string sink_name;
    sdk::Record record;
    {
      std::shared_lock config(config_mu_);
      sink = parts_.sink;
      sink_name = options_.sink;
      record.topic = options_.topic;
      if (sink != nullptr) {
        record.key = r.resource_key;
        // The error_id is the record's id too: a consumer drops redelivered reports by either.
        record.id = make_uuid_v4();
        record.payload = render_error_dto(r, parts_.service, offset_, record.id, duplicates);
        record.origin = sdk::RecordOrigin::error_report;
      }
    }
    if (sink == nullptr) {  // a reload removed errors.sink while this duplicate was held
      add(not_published_);
      parts_.log.warning(
          "held duplicate error not published: errors.sink was removed",
          {{"resource", r.resource_key}, {"kind", r.kind}, {"duplicates", duplicates}});
      return;
    }
    const std::string topic = record.topic;
    bool accepted = false;
    std::string failure = "the sink refused the record";
    t_publishing = true;
    try {
      accepted = sink->publish(std::move(record));
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    t_publishing = false;
    if (accepted) {
      add(published_);
      add(represented_, 1 + duplicates);
      return;
    }
    add(publish_failures_);
    parts_.log.error("error report not published", {{"sink", sink_name},
                                                    {"topic", topic},
                                                    {"resource", r.resource_key},
                                                    {"kind", r.kind},
                                                    {"duplicates", duplicates},
                                                    {"reason", failure}});
  }

  // options_, offset_, parts_.rules and parts_.sink: replaced by reconfigure() under an
  // exclusive lock, read under a shared one.
  mutable std::shared_mutex config_mu_;
  ErrorsOptions options_;
  DispatcherParts parts_;
  std::chrono::minutes offset_;
  DuplicateSuppressor suppressor_;
  mutable std::mutex kinds_mu_;
  std::map<std::string, std::uint64_t> kinds_;  // guarded by kinds_mu_

  std::atomic<std::uint64_t> seen_{0}, published_{0}, represented_{0}, suppressed_{0},
      not_published_{0}, publish_failures_{0}, rule_failures_{0}, breaker_failures_{0},
      reentrant_{0};
};

ErrorDispatcher::ErrorDispatcher(ErrorsOptions options, DispatcherParts parts)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(parts))) {}

ErrorDispatcher::~ErrorDispatcher() = default;

void ErrorDispatcher::dispatch(const std::exception& e, std::string kind, sdk::Target target,
                               sdk::Value context) {
  impl_->dispatch(error_event(core::describe_exception(e), nullptr, std::move(kind),
                              std::move(target), std::move(context)));
}

void ErrorDispatcher::dispatch(std::exception_ptr e, std::string kind, sdk::Target target,
                               sdk::Value context) {
  sdk::ExceptionInfo info = core::describe_exception(e);
  impl_->dispatch(error_event(std::move(info), std::move(e), std::move(kind), std::move(target),
                              std::move(context)));
}

void ErrorDispatcher::dispatch(sdk::ErrorEvent event) {
  impl_->dispatch(std::move(event));
}
void ErrorDispatcher::reconfigure(ErrorsOptions options,
                                  std::vector<const sdk::ExceptionRule*> rules,
                                  sdk::RecordSink* sink) {
  impl_->reconfigure(std::move(options), std::move(rules), sink);
}
void ErrorDispatcher::flush_expired() {
  impl_->flush_expired();
}
void ErrorDispatcher::shutdown() {
  impl_->shutdown();
}
std::vector<std::pair<std::string, std::uint64_t>> ErrorDispatcher::dispatched_by_kind() const {
  return impl_->dispatched_by_kind();
}
DispatcherStats ErrorDispatcher::stats() const {
  return impl_->stats();
}
const ErrorsOptions& ErrorDispatcher::options() const {
  return impl_->options();
}

}  // namespace crosscut
