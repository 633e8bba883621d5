// RedisBreakerBackend: breaker state shared by every process through Redis. Each operation is
// one EVALSHA of the breaker script, so concurrent instances never race. When Redis cannot be
// reached the configured policy answers instead (degraded results), with one log line and one
// `redis_connection` error per outage, and calls never wait longer than command_timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crosscut/sdk/breaker_state_machine.hpp"
#include "crosscut/sdk/sdk.hpp"
#include "redis_breaker_options.hpp"
#include "redis_connection.hpp"

namespace crosscut::redis {

class RedisBreakerBackend final : public sdk::BreakerBackend {
 public:
  static const sdk::OptionTable<RedisBreakerOptions>& options_table() {
    return redis_breaker_options_table();
  }

  // Throws std::invalid_argument for options checked_address() refuses.
  RedisBreakerBackend(const RedisBreakerOptions& options, sdk::HostContext& host);
  // The same checks, reported as a ConfigError at the option (the plugin's factory).
  static void check_options(const RedisBreakerOptions& options, const sdk::ConfigView& view,
                            sdk::HostContext& host);
  // Connects once and sends PING (`crosscut validate --check-connections`).
  static std::vector<sdk::ServerCheck> probe_servers(const RedisBreakerOptions& options,
                                                     const sdk::ConfigView& view,
                                                     sdk::HostContext& host,
                                                     std::chrono::milliseconds timeout);
  ~RedisBreakerBackend() override;

  sdk::BreakerResult apply(std::string_view key, sdk::BreakerOp op,
                           const sdk::BreakerPolicy& policy,
                           std::optional<std::int64_t> now_ms) override;
  std::vector<std::string> keys() override;

  // The keys a resource's state lives under (hash, failures).
  std::pair<std::string, std::string> redis_keys(std::string_view resource) const;
  // True while an outage is in progress (the last attempt to reach Redis failed).
  bool unavailable() const { return outage_.load(); }

 private:
  RedisBreakerBackend(const RedisBreakerOptions& options, RedisAddress address,
                      sdk::HostContext& host);

  struct Slot {
    std::mutex mu;
    std::unique_ptr<RedisConnection> conn;
    std::string sha;  // of the breaker script, from SCRIPT LOAD on this connection
    std::chrono::steady_clock::time_point next_attempt{};
    std::chrono::milliseconds backoff{0};
  };

  // Runs the script on one pooled connection; false when Redis could not be reached.
  bool run_script(const std::vector<std::string>& args, Reply& reply, std::string& failure);
  bool connect(Slot& slot, std::string& failure);
  bool eval(Slot& slot, const std::vector<std::string>& args, Reply& reply, std::string& failure);
  sdk::BreakerResult fallback(std::string_view key, sdk::BreakerOp op,
                              const sdk::BreakerPolicy& policy, std::optional<std::int64_t> now_ms);
  void outage_started(const std::string& why);
  void outage_ended();
  Slot& slot_for_this_thread();

  const RedisBreakerOptions options_;
  const RedisAddress address_;
  sdk::HostContext& host_;
  sdk::Logger& log_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<bool> outage_{false};

  std::mutex local_mu_;  // process-local breakers used while Redis is unreachable
  std::map<std::string, sdk::BreakerData, std::less<>> local_;
};

}  // namespace crosscut::redis
