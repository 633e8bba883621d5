// Redis breaker operations on loopback.
//  - record_failure: our backend (one EVALSHA per operation) against the seed's approach
//    (separate ZADD / ZREMRANGEBYSCORE / ZCARD / GET round trips) and against the raw EVALSHA
//    of the same script through hiredis (the floor); and from 8 threads of one process, where
//    calls that find the pooled connection busy share a pipelined round trip, against the
//    seed's approach from 8 threads with a connection each.
//  - record_rate_outcome: a rate-mode success (its bucket rewritten, old buckets dropped)
//    against the same seed approach, which is what a failure costs there.
//  - allow_success (acquire + success on a CLOSED breaker, with p50/p99 of the pair): the local
//    view against the same backend with local_view: false (two round trips).
//  - propagation (p50/p99 from the start of one backend's force_open or reset until another
//    backend's view answers the new state): the subscription against a peer that polls Redis
//    with state round trips. The two backends have their own connections and threads, which
//    is all Redis sees of two processes.
#include <hiredis/hiredis.h>

#include <algorithm>
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
  o.local_view = false;  // what one operation costs; its publication has no subscriber here
  crosscut::redis::RedisBreakerBackend backend(o, host);
  std::int64_t now = 1'000'000;
  for (auto _ : state) {
    auto r = backend.apply("bench/ours/failure", BreakerOp::failure, policy(), ++now);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

// A rate-mode outcome (a success, counted in its 100ms bucket of a 1s window) through the
// backend: the bucket's member is rewritten and, every 100 operations, one leaves the window.
void ours_rate(benchmark::State& state) {
  crosscut::testing::TestHost host;
  crosscut::redis::RedisBreakerOptions o;
  o.url = "redis://127.0.0.1:" + std::to_string(server().port());
  o.use_server_time = false;
  o.connections = 1;
  o.local_view = false;
  crosscut::redis::RedisBreakerBackend backend(o, host);
  auto p = policy();
  p.mode = crosscut::sdk::BreakerMode::rate;
  p.minimum_calls = 1'000'000'000;  // stays CLOSED
  p.bucket = std::chrono::milliseconds(100);
  std::int64_t now = 1'000'000;
  for (auto _ : state) {
    auto r = backend.apply("bench/ours/rate", BreakerOp::success, p, ++now);
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
    command(c, {"EVALSHA", sha, "4", "bench:{raw}:s", "bench:{raw}:f", "bench:{raw}:q",
                "bench:{raw}:b", "failure", std::to_string(++now),
                std::to_string(p.failure_threshold), std::to_string(p.success_threshold),
                std::to_string(p.timeout.count()), std::to_string(p.half_open_max_calls),
                std::to_string(p.sliding_window.count()), "86400000", "bench:changes@0", "raw"});
  }
  state.SetItemsProcessed(state.iterations());
  redisFree(c);
}

// record_failure from several threads of one process, through one backend (the default pool
// of two connections), each thread on a breaker of its own.
void ours_threads(benchmark::State& state) {
  static crosscut::testing::TestHost host;
  static crosscut::redis::RedisBreakerBackend backend = [] {
    crosscut::redis::RedisBreakerOptions o;
    o.url = "redis://127.0.0.1:" + std::to_string(server().port());
    o.use_server_time = false;
    o.local_view = false;
    return crosscut::redis::RedisBreakerBackend(o, host);
  }();
  const std::string key = "bench/threads/" + std::to_string(state.thread_index());
  std::int64_t now = 1'000'000;
  for (auto _ : state) {
    auto r = backend.apply(key, BreakerOp::failure, policy(), ++now);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

// The seed's four round trips from several threads, a connection each.
void seed_threads(benchmark::State& state) {
  redisContext* c = connect();
  const std::string f = "bench:seed:threads:" + std::to_string(state.thread_index()) + ":f";
  std::int64_t now = 1'000'000;
  std::int64_t seq = 0;
  for (auto _ : state) {
    ++now;
    command(c, {"ZADD", f, std::to_string(now), std::to_string(now) + ":" + std::to_string(++seq)});
    command(c, {"ZREMRANGEBYSCORE", f, "-inf", std::to_string(now - 1000)});
    command(c, {"ZCARD", f});
    command(c, {"GET", "bench:seed:state"});
  }
  state.SetItemsProcessed(state.iterations());
  redisFree(c);
}

crosscut::redis::RedisBreakerOptions options(bool local_view) {
  crosscut::redis::RedisBreakerOptions o;
  o.url = "redis://127.0.0.1:" + std::to_string(server().port());
  o.local_view = local_view;
  return o;
}

std::unique_ptr<crosscut::redis::RedisBreakerBackend> backend(crosscut::testing::TestHost& host,
                                                              bool local_view) {
  auto b = std::make_unique<crosscut::redis::RedisBreakerBackend>(options(local_view), host);
  if (local_view && !b->view_subscription()->wait_live(std::chrono::seconds(10)))
    throw std::runtime_error("the breaker view did not subscribe");
  return b;
}

void set_percentiles(benchmark::State& state, std::vector<std::int64_t>& ns) {
  if (ns.empty()) return;
  std::sort(ns.begin(), ns.end());
  state.counters["p50_ns"] = static_cast<double>(ns[ns.size() / 2]);
  state.counters["p99_ns"] = static_cast<double>(ns[ns.size() * 99 / 100]);
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void allow_success(benchmark::State& state, bool local_view) {
  crosscut::testing::TestHost host;
  auto b = backend(host, local_view);
  const auto p = policy();
  const std::string key = local_view ? "bench/view/closed" : "bench/trips/closed";
  b->apply(key, BreakerOp::reset, p, std::nullopt);
  std::vector<std::int64_t> ns;
  ns.reserve(1 << 20);
  for (auto _ : state) {
    const std::int64_t t0 = steady_ns();
    auto allowed = b->apply(key, BreakerOp::acquire, p, std::nullopt);
    auto done = b->apply(key, BreakerOp::success, p, std::nullopt);
    const std::int64_t t1 = steady_ns();
    benchmark::DoNotOptimize(allowed);
    benchmark::DoNotOptimize(done);
    if (ns.size() < ns.capacity()) ns.push_back(t1 - t0);
  }
  set_percentiles(state, ns);
  state.SetItemsProcessed(state.iterations());
}

void view_allow_success(benchmark::State& state) {
  allow_success(state, true);
}
void trips_allow_success(benchmark::State& state) {
  allow_success(state, false);
}

// Flips a breaker between forced OPEN and CLOSED through `writer`, and times how long until
// `reader` answers the new state.
void propagation(benchmark::State& state, bool local_view) {
  crosscut::testing::TestHost writer_host;
  crosscut::testing::TestHost reader_host;
  auto writer = backend(writer_host, false);
  auto reader = backend(reader_host, local_view);
  const auto p = policy();
  const std::string key = local_view ? "bench/view/propagation" : "bench/poll/propagation";
  writer->apply(key, BreakerOp::reset, p, std::nullopt);
  reader->apply(key, BreakerOp::state, p, std::nullopt);
  bool open = false;
  std::vector<std::int64_t> ns;
  for (auto _ : state) {
    open = !open;
    const auto want =
        open ? crosscut::sdk::BreakerState::open : crosscut::sdk::BreakerState::closed;
    const std::int64_t t0 = steady_ns();
    writer->apply(key, open ? BreakerOp::force_open : BreakerOp::reset, p, std::nullopt);
    while (reader->apply(key, BreakerOp::state, p, std::nullopt).state != want) {
    }
    ns.push_back(steady_ns() - t0);
  }
  set_percentiles(state, ns);
}

void view_propagation(benchmark::State& state) {
  propagation(state, true);
}
void poll_propagation(benchmark::State& state) {
  propagation(state, false);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("local_view/allow_success", view_allow_success)
      ->MinTime(0.2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("round_trips/allow_success", trips_allow_success)
      ->MinTime(0.2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("local_view/propagation", view_propagation)
      ->Iterations(2000)
      ->UseRealTime();
  benchmark::RegisterBenchmark("round_trips/propagation", poll_propagation)
      ->Iterations(2000)
      ->UseRealTime();
  benchmark::RegisterBenchmark("crosscut/record_failure", ours)->MinTime(0.2)->UseRealTime();
  benchmark::RegisterBenchmark("seed_4_round_trips/record_failure", seed)
      ->MinTime(0.2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("crosscut/record_rate_outcome", ours_rate)
      ->MinTime(0.2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("seed_4_round_trips/record_rate_outcome", seed)
      ->MinTime(0.2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("raw_evalsha/record_failure", raw_evalsha)
      ->MinTime(0.2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("crosscut/record_failure_8_threads", ours_threads)
      ->Threads(8)
      ->MinTime(0.5)
      ->UseRealTime();
  benchmark::RegisterBenchmark("seed_4_round_trips/record_failure_8_threads", seed_threads)
      ->Threads(8)
      ->MinTime(0.5)
      ->UseRealTime();
  return crosscut::bench::run_with_ratios(
      argc, argv,
      {{"crosscut", {"seed_4_round_trips", "raw_evalsha"}}, {"local_view", {"round_trips"}}});
}
