// Shared pieces of the Redis backend tests: one redis-server per test program, backends
// built from options the way the plugin's factory builds them.
#pragma once

#include <memory>

#include "redis_breaker/redis_breaker_backend.hpp"
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

}  // namespace crosscut::testing
