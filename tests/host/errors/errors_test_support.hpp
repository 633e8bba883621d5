// Helpers for the dispatcher tests: a record sink that keeps what it gets (or fails on
// demand), rules made from lambdas, and JSON parsing of published DTOs.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "crosscut/errors.hpp"
#include "support/test_host.hpp"

namespace crosscut_test {

// A type of our own, so its demangled name is predictable.
struct ConnectionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace crosscut_test

namespace crosscut::errors_test {

class MemorySink : public sdk::RecordSink {
 public:
  enum class Mode { accept, refuse, throw_error };

  bool publish(sdk::Record record) override {
    if (on_publish) on_publish();
    std::lock_guard lock(mu_);
    if (mode == Mode::refuse) return false;
    if (mode == Mode::throw_error) throw std::runtime_error("broker unreachable");
    records_.push_back(std::move(record));
    return true;
  }
  bool flush(std::chrono::steady_clock::time_point) override { return true; }
  sdk::DeliveryStats stats() const override { return {}; }

  std::vector<sdk::Record> records() const {
    std::lock_guard lock(mu_);
    return records_;
  }

  Mode mode = Mode::accept;
  std::function<void()> on_publish;

 private:
  mutable std::mutex mu_;
  std::vector<sdk::Record> records_;
};

class LambdaRule : public sdk::ExceptionRule {
 public:
  using Fn = std::function<std::optional<sdk::Decision>(const sdk::ErrorView&)>;
  LambdaRule(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  std::string_view name() const override { return name_; }
  std::optional<sdk::Decision> evaluate(const sdk::ErrorView& e) const override { return fn_(e); }

 private:
  std::string name_;
  Fn fn_;
};

inline rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("not a JSON object: " + json);
  return d;
}

inline std::vector<std::string> member_names(const rapidjson::Value& object) {
  std::vector<std::string> names;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it)
    names.emplace_back(it->name.GetString(), it->name.GetStringLength());
  return names;
}

inline sdk::Target upbit() {
  return {"upbit", "korea", "ticker"};
}

// What every dispatcher test builds: a dispatcher on a manual clock that publishes to a
// MemorySink and logs to a CapturingLogger. Tests derive from it to add what they inspect.
struct DispatcherHarness {
  struct Setup {
    std::vector<const sdk::ExceptionRule*> rules{};
    BreakerRecorder breaker{};
    ErrorsOptions options = with_sink("sink");
    sdk::EventBus* bus = nullptr;
    ServiceInfo service{"svc", "host", 1};
  };

  explicit DispatcherHarness(Setup setup, std::int64_t epoch_ms = 1'737'619'200'000)
      : clock(epoch_ms) {
    dispatcher = std::make_unique<ErrorDispatcher>(
        std::move(setup.options),
        DispatcherParts{log, clock, std::move(setup.rules), &sink, setup.bus,
                        std::move(setup.breaker), std::move(setup.service)});
  }

  static ErrorsOptions with_sink(std::string name) {
    ErrorsOptions o;
    o.sink = std::move(name);
    return o;
  }

  testing::CapturingLogger log{"errors"};
  testing::ManualClock clock;
  MemorySink sink;
  std::unique_ptr<ErrorDispatcher> dispatcher;
};

}  // namespace crosscut::errors_test
