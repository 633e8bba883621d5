// A HostContext for testing one plugin in isolation: a manual clock, a logger that keeps its
// records, an event bus that runs handlers inline, named record sinks, and collected errors.
// Tests of the real runtime use crosscut::Runtime instead.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "crosscut/sdk/sdk.hpp"

namespace crosscut::testing {

class ManualClock : public sdk::Clock {
 public:
  explicit ManualClock(std::int64_t epoch_ms = 1'737'619'200'000) : ns_(epoch_ms * 1'000'000) {}
  std::chrono::system_clock::time_point now() const noexcept override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(ns_.load())));
  }
  void set_ms(std::int64_t epoch_ms) { ns_.store(epoch_ms * 1'000'000); }
  void advance(std::chrono::nanoseconds d) { ns_.fetch_add(d.count()); }
  std::int64_t now_ms() const { return ns_.load() / 1'000'000; }

 private:
  std::atomic<std::int64_t> ns_;
};

struct CapturedLog {
  sdk::Level level;
  std::string logger;
  std::string message;
};

class CapturingLogger : public sdk::Logger {
 public:
  explicit CapturingLogger(std::string name) : name_(std::move(name)) {}
  bool should_log(sdk::Level) const noexcept override { return true; }
  void log(sdk::Level level, std::string_view message, sdk::Fields) noexcept override {
    std::lock_guard lock(mu_);
    records_.push_back({level, name_, std::string(message)});
  }
  std::vector<CapturedLog> records() const {
    std::lock_guard lock(mu_);
    return records_;
  }

 private:
  std::string name_;
  mutable std::mutex mu_;
  std::vector<CapturedLog> records_;
};

// Runs handlers on the emitting thread, in subscription order.
class InlineEventBus : public sdk::EventBus {
 public:
  sdk::Subscription subscribe(std::string_view name, Handler handler) override {
    std::lock_guard lock(mu_);
    auto id = next_id_++;
    handlers_.push_back({id, name, std::move(handler)});
    return sdk::Subscription([this, id] {
      std::lock_guard lock(mu_);
      std::erase_if(handlers_, [id](const Entry& e) { return e.id == id; });
    });
  }
  void publish(std::string_view name, std::shared_ptr<const void> event) override {
    std::vector<Handler> to_run;
    {
      std::lock_guard lock(mu_);
      for (const auto& e : handlers_)
        if (e.name == name) to_run.push_back(e.handler);
    }
    for (auto& h : to_run) h(sdk::EventRef{name, event.get()});
  }
  bool drain(std::chrono::milliseconds) override { return true; }

 private:
  struct Entry {
    std::uint64_t id;
    std::string_view name;
    Handler handler;
  };
  std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::vector<Entry> handlers_;
};

class TestHost : public sdk::HostContext {
 public:
  sdk::Logger& logger(std::string_view name, std::string_view) override {
    std::lock_guard lock(mu_);
    auto it = loggers_.find(std::string(name));
    if (it == loggers_.end())
      it = loggers_.emplace(std::string(name), std::make_unique<CapturingLogger>(std::string(name)))
               .first;
    return *it->second;
  }
  sdk::EventBus& bus() override { return bus_; }
  const sdk::Clock& clock() const override { return clock_; }
  sdk::RecordSink* record_sink(std::string_view name) override {
    std::lock_guard lock(mu_);
    auto it = sinks_.find(std::string(name));
    return it == sinks_.end() ? nullptr : it->second;
  }
  void report_error(sdk::ErrorEvent error) override {
    std::lock_guard lock(mu_);
    errors_.push_back(std::move(error));
  }
  void add_metric(std::string_view name, std::int64_t delta) override {
    std::lock_guard lock(mu_);
    metrics_[std::string(name)] += delta;
  }
  std::string_view service_name() const override { return "test-service"; }

  // Test controls.
  ManualClock& manual_clock() { return clock_; }
  void add_record_sink(std::string name, sdk::RecordSink* sink) {
    std::lock_guard lock(mu_);
    sinks_[std::move(name)] = sink;
  }
  std::vector<sdk::ErrorEvent> errors() const {
    std::lock_guard lock(mu_);
    return errors_;
  }
  std::int64_t metric(const std::string& name) const {
    std::lock_guard lock(mu_);
    auto it = metrics_.find(name);
    return it == metrics_.end() ? 0 : it->second;
  }
  std::vector<CapturedLog> logs(const std::string& logger) const {
    std::lock_guard lock(mu_);
    auto it = loggers_.find(logger);
    return it == loggers_.end() ? std::vector<CapturedLog>{} : it->second->records();
  }

 private:
  mutable std::mutex mu_;
  ManualClock clock_;
  InlineEventBus bus_;
  std::map<std::string, std::unique_ptr<CapturingLogger>> loggers_;
  std::map<std::string, sdk::RecordSink*> sinks_;
  std::vector<sdk::ErrorEvent> errors_;
  std::map<std::string, std::int64_t> metrics_;
};

}  // namespace crosscut::testing
