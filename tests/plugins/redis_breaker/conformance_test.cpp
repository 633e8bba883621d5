// The Redis backend against the SDK's breaker conformance suite, on a real redis-server.
#include "crosscut/sdk/testing/breaker_conformance.hpp"
#include "redis_fixture.hpp"

namespace {

crosscut::testing::TestHost& suite_host() {
  static crosscut::testing::TestHost host;
  return host;
}

}  // namespace

CROSSCUT_BREAKER_CONFORMANCE(Redis, [] {
  return std::make_unique<crosscut::redis::RedisBreakerBackend>(
      crosscut::testing::redis_options(crosscut::testing::shared_redis().url()), suite_host());
});
