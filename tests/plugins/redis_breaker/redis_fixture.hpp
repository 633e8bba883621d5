// Shared pieces of the Redis backend tests: one redis-server per test program, backends
// built from options the way the plugin's factory builds them.
#pragma once

#include <memory>
#include <string>

#include "redis_breaker/redis_breaker_backend.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"
#include "support/test_host.hpp"

namespace crosscut::testing {

inline RedisServer& shared_redis() {
  static RedisServer server;
  return server;
}

// The backend refuses a URL parse_redis_url does not accept (std::invalid_argument).
inline redis::RedisBreakerOptions redis_options(const std::string& url) {
  redis::RedisBreakerOptions o;
  o.url = url;
  o.use_server_time = false;
  return o;
}

// One 3-master cluster per test program, for the tests that leave its slots where they are.
inline RedisCluster& shared_cluster() {
  static RedisCluster cluster(3);
  return cluster;
}

// Options for a backend on cluster `c` (any node as the url); reconnecting soon after a node
// comes back.
inline redis::RedisBreakerOptions cluster_options(const RedisCluster& c) {
  auto o = redis_options(c.url());
  o.cluster = true;
  o.reconnect_backoff_max = std::chrono::milliseconds(200);
  return o;
}

// EVALSHA calls `server` has answered: one per breaker operation that went to Redis.
inline long long evalsha_calls(const RedisServer& server) {
  const std::string info = server.command({"INFO", "commandstats"});
  const std::string field = "cmdstat_evalsha:calls=";
  const auto at = info.find(field);
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + field.size()));
}

}  // namespace crosscut::testing
