// ErrorDispatcher end to end: normalisation, three RE2 rules, breaker callback, DTO rendering,
// publication to a null sink. The peer in the same program does the same work the way the
// seed did: std::regex rules, demangling every time, and a RapidJSON DOM for the document.
// Prints the ratio table at the end (goal: at least 200000 errors/s per core end to end).
#include <benchmark/benchmark.h>
#include <cxxabi.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <re2/re2.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <regex>
#include <stdexcept>

#include "core/timestamp.hpp"
#include "crosscut/errors.hpp"
#include "errors/error_dto.hpp"
#include "errors/error_id.hpp"
#include "peer_ratio_reporter.hpp"

namespace {

using namespace crosscut;

struct ConnectionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class NullLogger : public sdk::Logger {
 public:
  bool should_log(sdk::Level) const noexcept override { return false; }
  void log(sdk::Level, std::string_view, sdk::Fields) noexcept override {}
};

class SystemClock : public sdk::Clock {
 public:
  std::chrono::system_clock::time_point now() const noexcept override {
    return std::chrono::system_clock::now();
  }
};

class NullSink : public sdk::RecordSink {
 public:
  bool publish(sdk::Record record) override {
    bytes.fetch_add(record.payload.size(), std::memory_order_relaxed);
    return true;
  }
  bool flush(std::chrono::steady_clock::time_point) override { return true; }
  sdk::DeliveryStats stats() const override { return {}; }
  std::atomic<std::uint64_t> bytes{0};
};

// What a declarative rule does: exact kind/exchange, RE2 message search.
class Re2Rule : public sdk::ExceptionRule {
 public:
  Re2Rule(std::string name, std::string kind, std::string exchange, const std::string& message,
          sdk::Decision decision)
      : name_(std::move(name)),
        kind_(std::move(kind)),
        exchange_(std::move(exchange)),
        message_(message),
        decision_(std::move(decision)) {}
  std::string_view name() const override { return name_; }
  std::optional<sdk::Decision> evaluate(const sdk::ErrorView& e) const override {
    if (!kind_.empty() && e.kind != kind_) return std::nullopt;
    if (!exchange_.empty() && e.target.exchange != exchange_) return std::nullopt;
    if (!RE2::PartialMatch(e.exception.message, message_)) return std::nullopt;
    return decision_;
  }

 private:
  std::string name_, kind_, exchange_;
  RE2 message_;
  sdk::Decision decision_;
};

sdk::Decision decide(std::string kind, sdk::Severity severity) {
  sdk::Decision d;
  d.kind = std::move(kind);
  d.severity = severity;
  return d;
}

const sdk::Target kTarget{"upbit", "korea", "ticker"};
const char* const kMessages[] = {"connection refused", "HTTP 429 Too Many Requests",
                                 "handshake timed out", "reset by peer"};

struct Setup {
  Setup()
      : rate_limited("rate-limited", "ws_connection", "upbit", "(?i)429|too many requests",
                     decide("rate_limited", sdk::Severity::warning)),
        timeouts("timeouts", "", "", "(?i)timed? ?out",
                 decide("ws_timeout", sdk::Severity::warning)),
        resets("resets", "ws_connection", "bithumb", "(?i)reset",
               decide("ws_reset", sdk::Severity::info)) {}
  std::unique_ptr<ErrorDispatcher> dispatcher(std::optional<std::chrono::milliseconds> suppress) {
    suppress_rule = std::make_unique<Re2Rule>("dedupe", "", "", ".", sdk::Decision{});
    std::vector<const sdk::ExceptionRule*> rules{&rate_limited, &timeouts, &resets};
    if (suppress) {
      sdk::Decision d;
      d.suppress_for = *suppress;
      suppress_rule = std::make_unique<Re2Rule>("dedupe", "", "", ".", d);
      rules = {suppress_rule.get()};
    }
    ErrorsOptions options;
    options.sink = "null";
    options.utc_offset = std::chrono::hours(9);
    return std::make_unique<ErrorDispatcher>(
        options,
        DispatcherParts{log, clock, rules, &sink, nullptr,
                        [](const std::string&) { return std::optional(sdk::BreakerState::closed); },
                        ServiceInfo::current("bench")});
  }
  NullLogger log;
  SystemClock clock;
  NullSink sink;
  Re2Rule rate_limited, timeouts, resets;
  std::unique_ptr<Re2Rule> suppress_rule;
};

void BM_DispatcherEndToEnd(benchmark::State& state) {
  Setup setup;
  auto dispatcher = setup.dispatcher(std::nullopt);
  const ConnectionError errors[] = {ConnectionError(kMessages[0]), ConnectionError(kMessages[1]),
                                    ConnectionError(kMessages[2]), ConnectionError(kMessages[3])};
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t n = i++;
    dispatcher->dispatch(errors[n & 3], "ws_connection", kTarget,
                         sdk::Value::object({{"url", "wss://api.upbit.com/websocket/v1"},
                                             {"attempt", static_cast<int>(i & 7)}}));
  }
  state.SetItemsProcessed(state.iterations());
  if (dispatcher->stats().published != static_cast<std::uint64_t>(state.iterations()))
    state.SkipWithError("lost errors");
}
BENCHMARK(BM_DispatcherEndToEnd)->Name("crosscut/end_to_end")->MinTime(0.3);

void BM_DispatcherSuppressedDuplicates(benchmark::State& state) {
  Setup setup;
  auto dispatcher = setup.dispatcher(std::chrono::minutes(1));
  const ConnectionError error("connection refused");
  for (auto _ : state) dispatcher->dispatch(error, "ws_connection", kTarget);
  dispatcher->shutdown();
  state.SetItemsProcessed(state.iterations());
  const auto s = dispatcher->stats();
  if (s.represented != s.seen) state.SkipWithError("accounting broken");
}
BENCHMARK(BM_DispatcherSuppressedDuplicates)->Name("crosscut/suppressed_duplicates")->MinTime(0.3);

// The peer: same decisions and the same document, built the straightforward way.
class SeedStyleDispatcher {
 public:
  SeedStyleDispatcher()
      : rate_limited_("429|too many requests", std::regex::icase),
        timeouts_("timed? ?out", std::regex::icase),
        resets_("reset", std::regex::icase),
        service_(ServiceInfo::current("bench")) {}

  void dispatch(const std::exception& e, const std::string& kind, const sdk::Target& target,
                const sdk::Value& context) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> type(
        abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status), std::free);
    const std::string message = e.what();
    std::string decided_kind = kind, severity = "error", rule;
    if (kind == "ws_connection" && target.exchange == "upbit" &&
        std::regex_search(message, rate_limited_))
      decided_kind = "rate_limited", severity = "warning", rule = "rate-limited";
    else if (std::regex_search(message, timeouts_))
      decided_kind = "ws_timeout", severity = "warning", rule = "timeouts";
    else if (kind == "ws_connection" && target.exchange == "bithumb" &&
             std::regex_search(message, resets_))
      decided_kind = "ws_reset", severity = "info", rule = "resets";

    rapidjson::Document d;
    d.SetObject();
    auto& a = d.GetAllocator();
    auto str = [&](const std::string& s) { return rapidjson::Value(s.c_str(), a); };
    d.AddMember("version", 1, a);
    d.AddMember("error_id", str(make_uuid_v4()), a);
    d.AddMember(
        "timestamp",
        str(core::format_timestamp(std::chrono::system_clock::now(), std::chrono::hours(9))), a);
    d.AddMember("kind", str(decided_kind), a);
    d.AddMember("severity", str(severity), a);
    rapidjson::Value exception(rapidjson::kObjectType);
    exception.AddMember("type", str(type ? type.get() : "unknown"), a);
    exception.AddMember("message", str(message), a);
    d.AddMember("exception", exception, a);
    rapidjson::Value t(rapidjson::kObjectType);
    t.AddMember("exchange", str(target.exchange), a);
    t.AddMember("region", str(target.region), a);
    t.AddMember("request_type", str(target.request_type), a);
    d.AddMember("target", t, a);
    rapidjson::Value ctx(rapidjson::kObjectType);
    for (const auto& [k, v] : context.as_object()) {
      if (v.is_string())
        ctx.AddMember(str(k), str(v.as_string()), a);
      else if (v.is_int())
        ctx.AddMember(str(k), rapidjson::Value(v.as_int()), a);
    }
    d.AddMember("context", ctx, a);
    d.AddMember("rule", rule.empty() ? rapidjson::Value() : str(rule), a);
    rapidjson::Value breaker(rapidjson::kObjectType);
    breaker.AddMember("key", str(target.resource_key()), a);
    breaker.AddMember("state", "CLOSED", a);
    d.AddMember("breaker", breaker, a);
    rapidjson::Value service(rapidjson::kObjectType);
    service.AddMember("name", str(service_.name), a);
    service.AddMember("host", str(service_.host), a);
    service.AddMember("pid", service_.pid, a);
    d.AddMember("service", service, a);
    d.AddMember("correlation_id", rapidjson::Value(), a);
    d.AddMember("duplicates", 0, a);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    d.Accept(writer);
    sdk::Record record;
    record.topic = "ws.error";
    record.key = target.resource_key();
    record.payload = buffer.GetString();
    record.origin = sdk::RecordOrigin::error_report;
    sink.publish(std::move(record));
  }
  NullSink sink;

 private:
  std::regex rate_limited_, timeouts_, resets_;
  ServiceInfo service_;
};

void BM_SeedStyleDispatcher(benchmark::State& state) {
  SeedStyleDispatcher peer;
  const ConnectionError errors[] = {ConnectionError(kMessages[0]), ConnectionError(kMessages[1]),
                                    ConnectionError(kMessages[2]), ConnectionError(kMessages[3])};
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t n = i++;
    peer.dispatch(errors[n & 3], "ws_connection", kTarget,
                  sdk::Value::object({{"url", "wss://api.upbit.com/websocket/v1"},
                                      {"attempt", static_cast<int>(i & 7)}}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SeedStyleDispatcher)->Name("seed_style/end_to_end")->MinTime(0.3);

}  // namespace

int main(int argc, char** argv) {
  return crosscut::bench::run_with_ratios(argc, argv, "crosscut", {"seed_style"});
}
