// The options of breaker backend `redis`, declared once: the struct (defaults) and its table,
// and the checks the table cannot express.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crosscut/sdk/options.hpp"
#include "redis_url.hpp"

namespace crosscut::redis {

// What breakers do while Redis is unreachable.
enum class UnavailablePolicy { local, allow, deny };

std::string_view unavailable_policy_name(UnavailablePolicy policy);

struct RedisBreakerOptions {
  std::string url = "redis://127.0.0.1:6379/0";
  std::optional<std::string> password;  // set: overrides one in the URL
  std::string key_prefix = "crosscut:cb";
  UnavailablePolicy on_unavailable = UnavailablePolicy::local;
  std::chrono::milliseconds command_timeout{50};
  bool use_server_time = true;
  std::chrono::milliseconds key_ttl = std::chrono::hours(24);
  std::size_t connections = 2;
  std::chrono::milliseconds reconnect_backoff_max{5000};
  bool local_view = true;
  std::chrono::milliseconds view_refresh{1000};
  // Redis Cluster: `url` names any node; keys go to the master serving their slot. `nodes`
  // names more nodes to read the slot map from (host:port or URLs), for when that one is down.
  bool cluster = false;
  std::vector<std::string> nodes;
};

const sdk::OptionTable<RedisBreakerOptions>& redis_breaker_options_table();

// Reports a problem with one option; it must throw.
using OptionProblem = std::function<void(std::string_view key, const std::string& problem)>;

// The address the options name (`url`, with `password` applied), once the options the table
// cannot check hold: a URL parse_redis_url accepts, a key_prefix without braces, and for a
// cluster database 0 and `nodes` that parse. Calls `fail` for the first that does not.
RedisAddress checked_address(const RedisBreakerOptions& options, const OptionProblem& fail);

// The cluster nodes to read the slot map from: `address` first, then `nodes`, each with the
// credentials of `address`.
std::vector<RedisAddress> seed_addresses(const RedisBreakerOptions& options,
                                         const RedisAddress& address);

}  // namespace crosscut::redis
