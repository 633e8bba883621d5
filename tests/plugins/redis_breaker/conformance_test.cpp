// The Redis backend against the SDK's breaker conformance suite, on a real redis-server and on a
// real 3-master Redis Cluster.
#include "crosscut/sdk/testing/breaker_conformance.hpp"
#include "redis_fixture.hpp"

namespace {

crosscut::testing::TestHost& suite_host() {
  static crosscut::testing::TestHost host;
  return host;
}

}  // namespace

// Every operation a round trip.
CROSSCUT_BREAKER_CONFORMANCE(Redis, [] {
  auto o = crosscut::testing::redis_options(crosscut::testing::shared_redis().url());
  o.local_view = false;
  return std::make_unique<crosscut::redis::RedisBreakerBackend>(o, suite_host());
});

// Operations that change nothing answered by the local view: it is subscribed before the
// suite's first operation, so the view answers every one it can.
CROSSCUT_BREAKER_CONFORMANCE(RedisLocalView, [] {
  auto backend = std::make_unique<crosscut::redis::RedisBreakerBackend>(
      crosscut::testing::redis_options(crosscut::testing::shared_redis().url()), suite_host());
  if (!backend->view_subscription()->wait_live(std::chrono::seconds(10)))
    throw std::runtime_error("the breaker view did not subscribe within 10s");
  return backend;
});

CROSSCUT_BREAKER_CONFORMANCE(RedisCluster, [] {
  auto o = crosscut::testing::cluster_options(crosscut::testing::shared_cluster());
  o.local_view = false;
  return std::make_unique<crosscut::redis::RedisBreakerBackend>(o, suite_host());
});

CROSSCUT_BREAKER_CONFORMANCE(RedisClusterLocalView, [] {
  auto backend = std::make_unique<crosscut::redis::RedisBreakerBackend>(
      crosscut::testing::cluster_options(crosscut::testing::shared_cluster()), suite_host());
  if (!backend->view_subscription()->wait_live(std::chrono::seconds(10)))
    throw std::runtime_error("the breaker view did not subscribe within 10s");
  return backend;
});
