// Shared pieces of the kafka plugin tests: components built from YAML the way the host builds
// them (schema checked, defaults filled), and a TestHost whose errors can be waited for.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/option_validator.hpp"
#include "config/yaml_tree_loader.hpp"
#include "crosscut/sdk/sdk.hpp"
#include "support/component_cast.hpp"
#include "support/test_host.hpp"

extern "C" const crosscut_plugin_info* crosscut_plugin_entry();

namespace crosscut::testing {

inline const sdk::ComponentFactory& kafka_factory(sdk::ComponentKind kind) {
  const auto& d = *static_cast<const sdk::PluginDescriptor*>(crosscut_plugin_entry()->descriptor);
  for (const auto& f : d.components)
    if (f.kind == kind && f.type == "kafka") return f;
  throw std::runtime_error("no kafka component of that kind");
}

// Parses `yaml` (a map of options, `type` included) as the file "crosscut.yaml", checks it
// against the factory's schema at `path` and creates the component. Throws ConfigError.
template <class T>
std::unique_ptr<T> build_kafka(sdk::ComponentKind kind, const std::string& yaml,
                               sdk::HostContext& host, const std::string& path = "sinks.main") {
  auto tree = config::parse_yaml_tree(
      yaml, "crosscut.yaml", [](const std::string&) { return std::optional<std::string>{}; });
  const auto& factory = kafka_factory(kind);
  config::validate_options(tree.root, factory.schema, {tree.file, path}, {"type"});
  auto component = factory.create(sdk::ConfigView(&tree.root, tree.file, path), host);
  auto typed = testing::component_as<T>(std::move(component));
  if (!typed) throw std::runtime_error("unexpected component type");
  return typed;
}

// A TestHost whose reported errors can be awaited.
class WaitableHost : public TestHost {
 public:
  void report_error(sdk::ErrorEvent error) override {
    TestHost::report_error(std::move(error));
    std::lock_guard lock(mu_);
    ++reported_;
    cv_.notify_all();
  }
  // True once at least `count` errors were reported.
  bool wait_for_errors(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return reported_ >= count; });
  }
  std::vector<sdk::ErrorEvent> errors_of_type(const std::string& type) const {
    std::vector<sdk::ErrorEvent> out;
    for (auto& e : errors())
      if (e.info.type == type) out.push_back(e);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t reported_ = 0;
};

// Every receipt completion, by ticket, with its outcome. Thread-safe.
class Receipts final : public sdk::DeliveryListener {
 public:
  struct Completion {
    sdk::DeliveryOutcome outcome;
    std::string kind;
    std::string reason;
  };
  void on_delivery(std::uint64_t ticket, sdk::DeliveryOutcome outcome, std::string_view kind,
                   std::string_view reason) noexcept override {
    std::lock_guard lock(mu_);
    by_ticket_[ticket].push_back({outcome, std::string(kind), std::string(reason)});
  }
  sdk::DeliveryReceipt receipt(std::uint64_t ticket) { return {this, ticket}; }
  std::vector<Completion> of(std::uint64_t ticket) const {
    std::lock_guard lock(mu_);
    auto it = by_ticket_.find(ticket);
    return it == by_ticket_.end() ? std::vector<Completion>{} : it->second;
  }
  // The single completion of `ticket`; a test failure (and a default) when there is not one.
  Completion only(std::uint64_t ticket) const {
    const auto cs = of(ticket);
    EXPECT_EQ(cs.size(), 1u) << "ticket " << ticket;
    return cs.size() == 1 ? cs[0] : Completion{sdk::DeliveryOutcome::delivered, "none", ""};
  }
  std::size_t completed() const {
    std::lock_guard lock(mu_);
    return by_ticket_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::uint64_t, std::vector<Completion>> by_ticket_;
};

}  // namespace crosscut::testing
