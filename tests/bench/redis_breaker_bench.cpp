// Redis breaker operations per connection on loopback: our backend (one EVALSHA per
// operation) against the seed's approach (separate ZADD / ZREMRANGEBYSCORE / ZCARD / GET round
// trips) and against the raw EVALSHA of the same script through hiredis (the floor).
#include <hiredis/hiredis.h>

#include <memory>

#include "peer_ratio_reporter.hpp"
#include "redis_breaker/breaker_script.hpp"
#include "redis_breaker/redis_breaker_backend.hpp"
#include "support/redis_server.hpp"
#include "support/test_host.hpp"

namespace {

using crosscut::sdk::BreakerOp;

crosscut::testing::RedisServer& server() {
  static crosscut::testing::RedisServer s;
  return s;
}

crosscut::sdk::BreakerPolicy policy() {
  crosscut::sdk::BreakerPolicy p;
  p.failure_threshold = 1'000'000'000;  // stays CLOSED: every op does the full failure path
  p.sliding_window = std::chrono::milliseconds(1000);
  return p;
}

redisContext* connect() {
  timeval tv{2, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", server().port(), tv);
  if (!c || c->err) throw std::runtime_error("cannot connect to the benchmark redis-server");
  return c;
}

void command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (!r) throw std::runtime_error("redis command failed");
  freeReplyObject(r);
}

// A failure recorded on the breaker through the plugin's backend (one pooled connection).
void ours(benchmark::State& state) {
  crosscut::testing::TestHost host;
  crosscut::redis::RedisBreakerOptions o;
  o.url = "redis://127.0.0.1:" + std::to_string(server().port());
  o.use_server_time = false;
  o.connections = 1;
  crosscut::redis::RedisBreakerBackend backend(o, host);
  std::int64_t now = 1'000'000;
  for (auto _ : state) {
    auto r = backend.apply("bench/ours/failure", BreakerOp::failure, policy(), ++now);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

// The seed: record the failure and read the state with four separate round trips.
void seed(benchmark::State& state) {
  redisContext* c = connect();
  std::int64_t now = 1'000'000;
  std::int64_t seq = 0;
  for (auto _ : state) {
    ++now;
    command(c, {"ZADD", "bench:seed:f", std::to_string(now),
                std::to_string(now) + ":" + std::to_string(++seq)});
    command(c, {"ZREMRANGEBYSCORE", "bench:seed:f", "-inf", std::to_string(now - 1000)});
    command(c, {"ZCARD", "bench:seed:f"});
    command(c, {"GET", "bench:seed:state"});
  }
  state.SetItemsProcessed(state.iterations());
  redisFree(c);
}

// The same script called directly: what one round trip costs without our client code.
void raw_evalsha(benchmark::State& state) {
  redisContext* c = connect();
  auto* loaded =
      static_cast<redisReply*>(redisCommand(c, "SCRIPT LOAD %s", crosscut::redis::kBreakerScript));
  std::string sha(loaded->str, loaded->len);
  freeReplyObject(loaded);
  auto p = policy();
  std::int64_t now = 1'000'000;
  for (auto _ : state) {
    command(
        c, {"EVALSHA", sha, "2", "bench:{raw}:s", "bench:{raw}:f", "failure", std::to_string(++now),
            std::to_string(p.failure_threshold), std::to_string(p.success_threshold),
            std::to_string(p.timeout.count()), std::to_string(p.half_open_max_calls),
            std::to_string(p.sliding_window.count()), "86400000"});
  }
  state.SetItemsProcessed(state.iterations());
  redisFree(c);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("crosscut/record_failure", ours)->MinTime(0.2)->UseRealTime();
  benchmark::RegisterBenchmark("seed_4_round_trips/record_failure", seed)
      ->MinTime(0.2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("raw_evalsha/record_failure", raw_evalsha)
      ->MinTime(0.2)
      ->UseRealTime();
  return crosscut::bench::run_with_ratios(argc, argv, "crosscut",
                                          {"seed_4_round_trips", "raw_evalsha"});
}
