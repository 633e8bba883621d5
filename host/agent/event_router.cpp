#include "agent/event_router.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <unordered_map>

#include "agent/json_value.hpp"
#include "crosscut/log_context.hpp"
#include "crosscut/version.hpp"

namespace crosscut::agent {
namespace {

const rapidjson::Value* member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// A required string member: "" in `problem` when present.
std::string_view string_member(const rapidjson::Value& obj, const char* name, std::string& problem,
                               bool required = true) {
  const rapidjson::Value* v = member(obj, name);
  if (!v) {
    if (required) problem = std::string("missing '") + name + "'";
    return {};
  }
  if (!v->IsString()) {
    problem = std::string("'") + name + "' must be a string";
    return {};
  }
  return {v->GetString(), v->GetStringLength()};
}

std::string_view resource_member(const rapidjson::Value& doc, std::string& problem) {
  std::string_view resource = string_member(doc, "resource", problem);
  if (problem.empty() && resource.empty()) problem = "'resource' must not be empty";
  return resource;
}

std::optional<sdk::Target> read_target(const rapidjson::Value& doc, std::string& problem,
                                       bool required) {
  const rapidjson::Value* t = member(doc, "target");
  if (!t) {
    if (required) problem = "missing 'target'";
    return std::nullopt;
  }
  if (!t->IsObject()) {
    problem = "'target' must be an object {exchange, region, request_type}";
    return std::nullopt;
  }
  sdk::Target target;
  for (auto [name, field] :
       {std::pair{"exchange", &target.exchange}, std::pair{"region", &target.region},
        std::pair{"request_type", &target.request_type}}) {
    std::string p;
    std::string_view v = string_member(*t, name, p, required);
    if (!p.empty()) {
      problem = "target: " + p;
      return std::nullopt;
    }
    // Refused rather than cut: two long names cut alike would count as one target.
    if (v.size() > kMaxTargetFieldBytes) {
      problem = std::string("target: '") + name + "' is longer than " +
                std::to_string(kMaxTargetFieldBytes) + " bytes";
      return std::nullopt;
    }
    *field = v.empty() && !required ? "unknown" : std::string(v);
  }
  return target;
}

// The version of docs/protocol.md this router speaks, and the events it lists in `hello`.
constexpr int kProtocolVersion = 1;
// The longest Retry-After an outcome may carry: 30 days.
constexpr std::int64_t kMaxRetryAfterMs = 30LL * 24 * 3600 * 1000;
constexpr const char* kProtocolEvents =
    R"(["acquire","breaker","error","flush","hello","log","message","outcome"])";

void append_json_string(std::string& out, std::string_view s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  out.append(buffer.GetString(), buffer.GetSize());
}

// The id to echo, as JSON; "" when it is neither an integer nor a string.
std::string id_json(const rapidjson::Value& id) {
  if (id.IsInt64()) return std::to_string(id.GetInt64());
  if (id.IsUint64()) return std::to_string(id.GetUint64());
  std::string out;
  if (id.IsString()) append_json_string(out, {id.GetString(), id.GetStringLength()});
  return out;
}

void append_breaker_members(std::string& out, const sdk::BreakerResult& r) {
  out += ",\"state\":\"";
  out += sdk::state_name(r.state);
  out += '"';
  if (r.degraded) out += ",\"degraded\":true";
}

// Counting through Runtime::count(): the counter of a target named by input is released once
// its minutes are published and it has been idle a while, so distinct targets cost memory only
// while they send.
class RuntimeCounting final : public MessageCounting {
 public:
  explicit RuntimeCounting(Runtime& runtime) : runtime_(runtime) {}

  bool count(const sdk::Target& target, std::string_view symbol,
             std::optional<std::int64_t> event_time_ms) override {
    return runtime_.count(target, symbol, event_time_ms);
  }

 private:
  Runtime& runtime_;
};

}  // namespace

void BadLineReporter::report(const sdk::InputPosition& where, std::string_view reason) {
  auto now = std::chrono::steady_clock::now();
  std::uint64_t unlogged = 0;
  {
    std::lock_guard lock(mu_);
    auto it = windows_.find(where.input);
    if (it == windows_.end()) it = windows_.emplace(std::string(where.input), Window{}).first;
    Window& w = it->second;
    if (now - w.start >= std::chrono::minutes(1)) {
      w.start = now;
      w.logged = 0;
    }
    if (w.logged >= per_minute_) {
      ++w.unlogged;
      return;
    }
    ++w.logged;
    unlogged = std::exchange(w.unlogged, 0);
  }
  std::string text(reason.substr(0, 300));
  log_.warning("bad input line skipped",
               {{"input", where.input},
                {"line", static_cast<std::int64_t>(where.line)},
                {"reason", text},
                {"unreported_since_last", static_cast<std::int64_t>(unlogged)}});
}

EventRouter::EventRouter(Runtime& runtime, AgentStats& stats, BadLineReporter& bad,
                         std::optional<MarketDataMapping> market_data)
    : EventRouter(runtime, stats, bad, std::move(market_data),
                  std::make_unique<RuntimeCounting>(runtime)) {}

EventRouter::EventRouter(Runtime& runtime, AgentStats& stats, BadLineReporter& bad,
                         std::optional<MarketDataMapping> market_data, MessageCounting& counting)
    : runtime_(runtime),
      stats_(stats),
      bad_(bad),
      market_data_(std::move(market_data)),
      counting_(counting) {
  if (market_data_) market_data_counter_ = &runtime_.counter(market_data_->target());
}

EventRouter::EventRouter(Runtime& runtime, AgentStats& stats, BadLineReporter& bad,
                         std::optional<MarketDataMapping> market_data,
                         std::unique_ptr<MessageCounting> own_counting)
    : EventRouter(runtime, stats, bad, std::move(market_data), *own_counting) {
  own_counting_ = std::move(own_counting);
}

void EventRouter::bump(std::atomic<std::uint64_t> AgentStats::*which) {
  (stats_.*which).fetch_add(1, std::memory_order_relaxed);
  if (input_stats_) (input_stats_->*which).fetch_add(1, std::memory_order_relaxed);
}

void EventRouter::on_bad_input(const sdk::InputPosition& where, std::string_view reason) {
  bump(&AgentStats::bad_lines);
  bad_.report(where, reason);
}

void EventRouter::on_message(const sdk::Target& target, std::string_view symbol,
                             std::optional<std::int64_t> event_time_ms) {
  if (!count_message(target, symbol, event_time_ms))
    on_bad_input({"on_message", 0}, refused_reason());
}

bool EventRouter::count_message(const sdk::Target& target, std::string_view symbol,
                                std::optional<std::int64_t> event_time_ms) {
  if (target.exchange.size() > kMaxTargetFieldBytes ||
      target.region.size() > kMaxTargetFieldBytes ||
      target.request_type.size() > kMaxTargetFieldBytes ||
      !counting_.count(target, symbol, event_time_ms))
    return false;
  bump(&AgentStats::messages);
  return true;
}

std::string EventRouter::refused_reason() {
  return "message refused: a target field is longer than " + std::to_string(kMaxTargetFieldBytes) +
         " bytes";
}

void EventRouter::on_line(std::string_view line, const sdk::InputPosition& where) {
  handle(line, where, nullptr);
}

void EventRouter::on_request_line(std::string_view line, const sdk::InputPosition& where,
                                  const std::shared_ptr<sdk::ReplyChannel>& replies) {
  handle(line, where, &replies);
}

void EventRouter::handle(std::string_view line, const sdk::InputPosition& where,
                         const std::shared_ptr<sdk::ReplyChannel>* replies) {
  bump(&AgentStats::lines);
  if (line.size() > kMaxLine) return on_bad_input(where, "line longer than 64 MiB");
  rapidjson::Document doc;
  // Iterative: a line of nested '[' (a megabyte of them fits) must not exhaust the stack.
  doc.Parse<rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseIterativeFlag>(line.data(),
                                                                                line.size());
  if (doc.HasParseError()) {
    return on_bad_input(where, std::string("not JSON: ") +
                                   rapidjson::GetParseError_En(doc.GetParseError()) +
                                   " at offset " + std::to_string(doc.GetErrorOffset()));
  }
  std::string problem;
  if (market_data_) {
    auto m = market_data_->read(doc, problem);
    if (!m) return on_bad_input(where, problem);
    bump(&AgentStats::messages);
    if (m->time_ms)
      market_data_counter_->increment(m->symbol, *m->time_ms);
    else
      market_data_counter_->increment(m->symbol);
    return;
  }
  if (!doc.IsObject()) return on_bad_input(where, "not a JSON object");
  Reply reply;
  std::string id;
  if (const rapidjson::Value* id_value = replies ? member(doc, "id") : nullptr) {
    reply.requested = true;
    id = id_json(*id_value);
    if (id.empty()) {
      id = "null";
      problem = "'id' must be an integer or a string";
    }
  }
  if (problem.empty()) problem = route_event(doc, reply);
  if (!problem.empty()) on_bad_input(where, problem);
  if (!reply.requested) return;
  sdk::ReplyChannel& channel = **replies;
  const std::uint64_t place = channel.reserve();
  if (problem.empty() && reply.after_flush) {
    if (flushes_ != nullptr) return flushes_->enqueue(*replies, place, std::move(id));
    return channel.send(place,
                        flush_reply(id, runtime_.flush(kFlushReplyTimeout), kFlushReplyTimeout));
  }
  std::string out = "{\"id\":" + id;
  if (problem.empty()) {
    out += ",\"ok\":true";
    out += reply.members;
  } else {
    out += ",\"ok\":false,\"error\":";
    append_json_string(out, problem.substr(0, 300));
  }
  out += '}';
  channel.send(place, out);
}

std::string EventRouter::route_event(const rapidjson::Value& doc, Reply& reply) {
  std::string problem;
  std::string_view event = string_member(doc, "event", problem);
  if (!problem.empty()) return problem;
  if (event == "message") return route_message(doc);
  if (event == "error") return route_error(doc);
  if (event == "outcome") return route_outcome(doc, reply);
  if (event == "log") return route_log(doc);
  const bool request =
      event == "acquire" || event == "breaker" || event == "flush" || event == "hello";
  if (!request)
    return "unknown event '" + std::string(event.substr(0, 64)) +
           "' (message, error, outcome, log; acquire, breaker, flush, hello with an id)";
  // Without a way back, the answer that is the point of these is lost: an acquire would take
  // a HALF_OPEN permit nobody knows of.
  if (!reply.requested)
    return "'" + std::string(event) +
           "' is a request: it needs an 'id', on an input that can reply (unix)";
  if (event == "acquire") return route_acquire(doc, reply);
  if (event == "breaker") return route_breaker(doc, reply);
  if (event == "flush") {
    reply.after_flush = true;
    return {};
  }
  reply.members = ",\"protocol\":" + std::to_string(kProtocolVersion) + ",\"agent\":";
  append_json_string(reply.members, std::string("crosscut ") + version());
  reply.members += ",\"events\":";
  reply.members += kProtocolEvents;
  return {};
}

std::string EventRouter::route_acquire(const rapidjson::Value& doc, Reply& reply) {
  std::string problem;
  std::string_view resource = resource_member(doc, problem);
  if (!problem.empty()) return problem;
  const sdk::BreakerResult r = runtime_.breaker(resource).apply(sdk::BreakerOp::acquire);
  reply.members = r.allowed ? ",\"allowed\":true" : ",\"allowed\":false";
  append_breaker_members(reply.members, r);
  return {};
}

std::string EventRouter::route_breaker(const rapidjson::Value& doc, Reply& reply) {
  std::string problem;
  std::string_view resource = resource_member(doc, problem);
  if (!problem.empty()) return problem;
  const sdk::BreakerResult r = runtime_.breaker(resource).apply(sdk::BreakerOp::state);
  append_breaker_members(reply.members, r);
  reply.members += ",\"failures\":" + std::to_string(r.failures);
  reply.members += ",\"opened_at_ms\":";
  reply.members += r.opened_at_ms && r.state != sdk::BreakerState::closed
                       ? std::to_string(*r.opened_at_ms)
                       : std::string("null");
  reply.members += ",\"open_until_ms\":";
  reply.members += r.open_until_ms && r.state == sdk::BreakerState::open
                       ? std::to_string(*r.open_until_ms)
                       : std::string("null");
  reply.members += r.forced_open ? ",\"forced_open\":true" : ",\"forced_open\":false";
  return {};
}

std::string EventRouter::route_message(const rapidjson::Value& doc) {
  std::string problem;
  auto target = read_target(doc, problem, true);
  if (!target) return problem;
  std::string_view symbol = string_member(doc, "symbol", problem, false);
  if (!problem.empty()) return problem;
  std::optional<std::int64_t> ts;
  if (const rapidjson::Value* t = member(doc, "ts_ms")) {
    if (!t->IsInt64()) return "'ts_ms' must be an integer (epoch milliseconds)";
    ts = t->GetInt64();
  }
  if (!count_message(*target, symbol, ts)) return refused_reason();
  return {};
}

std::string EventRouter::route_error(const rapidjson::Value& doc) {
  std::string problem;
  sdk::ErrorEvent e;
  std::string_view kind = string_member(doc, "kind", problem, false);
  if (!problem.empty()) return problem;
  e.kind = kind.empty() ? "unknown" : std::string(kind);
  if (const rapidjson::Value* ex = member(doc, "exception")) {
    if (!ex->IsObject()) return "'exception' must be an object {type, message}";
    e.info.type = std::string(string_member(*ex, "type", problem, false));
    e.info.message = std::string(string_member(*ex, "message", problem, false));
    if (!problem.empty()) return "exception." + problem;
  }
  if (auto target = read_target(doc, problem, false))
    e.target = *target;
  else if (!problem.empty())
    return problem;
  else
    e.target = {"unknown", "unknown", "unknown"};
  if (const rapidjson::Value* ctx = member(doc, "context")) {
    if (!ctx->IsObject()) return "'context' must be an object";
    e.context = to_value(*ctx);
  }
  std::string_view correlation = string_member(doc, "correlation_id", problem, false);
  if (!problem.empty()) return problem;
  e.correlation_id = std::string(correlation);
  e.timestamp = runtime_.clock().now();
  bump(&AgentStats::errors);
  runtime_.errors().dispatch(std::move(e));
  return {};
}

std::string EventRouter::route_outcome(const rapidjson::Value& doc, Reply& reply) {
  std::string problem;
  std::string_view resource = resource_member(doc, problem);
  if (!problem.empty()) return problem;
  const rapidjson::Value* success = member(doc, "success");
  if (!success) return "missing 'success'";
  if (!success->IsBool()) return "'success' must be true or false";
  // A server's Retry-After or ban: the breaker stays OPEN that long for every instance.
  std::int64_t retry_after_ms = 0;
  if (const rapidjson::Value* ra = member(doc, "retry_after_ms")) {
    if (!ra->IsInt64() || ra->GetInt64() < 0 || ra->GetInt64() > kMaxRetryAfterMs)
      return "'retry_after_ms' must be an integer from 0 to " + std::to_string(kMaxRetryAfterMs) +
             " (ms)";
    retry_after_ms = ra->GetInt64();
  }
  // How long the call took: a rate-mode policy's slow-call rule reads it.
  sdk::BreakerOpArgs outcome;
  if (const rapidjson::Value* d = member(doc, "duration_ms")) {
    if (!d->IsInt64() || d->GetInt64() < 0 || d->GetInt64() > sdk::kMaxBreakerTimeMs)
      return "'duration_ms' must be an integer from 0 to " +
             std::to_string(sdk::kMaxBreakerTimeMs) + " (ms)";
    outcome.duration_ms = d->GetInt64();
  }
  bump(&AgentStats::outcomes);
  Breaker breaker = runtime_.breaker(resource);
  sdk::BreakerResult r =
      breaker.apply(success->GetBool() ? sdk::BreakerOp::success : sdk::BreakerOp::failure,
                    std::nullopt, outcome);
  if (retry_after_ms > 0) {
    auto opened = breaker.apply(sdk::BreakerOp::open_until, std::nullopt,
                                sdk::BreakerOpArgs{.for_ms = retry_after_ms});
    opened.degraded = opened.degraded || r.degraded;
    r = opened;
  }
  if (reply.requested) append_breaker_members(reply.members, r);
  return {};
}

std::string EventRouter::route_log(const rapidjson::Value& doc) {
  std::string problem;
  std::string_view level_text = string_member(doc, "level", problem);
  if (!problem.empty()) return problem;
  auto level = sdk::parse_level(level_text);
  if (!level || *level == sdk::Level::off)
    return "unknown level '" + std::string(level_text.substr(0, 32)) +
           "' (debug, info, warning, error, critical)";
  std::string_view name = string_member(doc, "logger", problem, false);
  std::string_view category = string_member(doc, "category", problem, false);
  std::string_view message = string_member(doc, "message", problem);
  if (!problem.empty()) return problem;
  sdk::Value extra;
  if (const rapidjson::Value* x = member(doc, "extra")) {
    if (!x->IsObject()) return "'extra' must be an object";
    extra = to_value(*x);
  }
  std::optional<sdk::Value> exception;
  if (const rapidjson::Value* ex = member(doc, "exception")) {
    if (!ex->IsObject()) return "'exception' must be an object {type, message, traceback}";
    std::string_view type = string_member(*ex, "type", problem, false);
    std::string_view text = string_member(*ex, "message", problem, false);
    std::string_view traceback = string_member(*ex, "traceback", problem, false);
    if (!problem.empty()) return "exception." + problem;
    sdk::Value::Object parts{{"type", sdk::Value(std::string(type.empty() ? "unknown" : type))},
                             {"message", sdk::Value(std::string(text))}};
    if (!traceback.empty()) parts.emplace_back("traceback", sdk::Value(std::string(traceback)));
    exception = sdk::Value(std::move(parts));
  }
  bump(&AgentStats::logs);
  Logger log = runtime_.logger(name.empty() ? "agent" : name, category.empty() ? "app" : category);
  if (!log.enabled(*level)) return {};
  // The sender's fields reach the record's `extra` as context fields of this call.
  sdk::Value::Object fields =
      extra.is_object() ? std::move(extra.as_object()) : sdk::Value::Object{};
  if (exception) {
    std::erase_if(fields, [](const auto& field) { return field.first == "exception"; });
    fields.emplace_back("exception", std::move(*exception));
  }
  ContextScope scope(std::move(fields));
  log.log(*level, message);
  return {};
}

}  // namespace crosscut::agent
