// The Redis backend on a real 3-master Redis Cluster (cluster: true; the conformance suite runs
// on it in conformance_test.cpp): eight simulator processes racing on breakers spread over every
// master, a live reshard in the middle of traffic, a master killed and restarted, and the
// simulator's output identical to the memory backend's.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "redis_breaker/cluster_slots.hpp"
#include "redis_fixture.hpp"
#include "support/process.hpp"

namespace {

using crosscut::redis::RedisBreakerBackend;
using crosscut::sdk::BreakerOp;
using crosscut::sdk::BreakerState;

using crosscut::testing::cluster_options;
using crosscut::testing::shared_cluster;

// The port of the master serving `resource`'s keys, as the cluster itself says.
int master_port(crosscut::testing::RedisCluster& c, const std::string& resource) {
  const std::string key = "crosscut:cb:{" + resource + "}:s";
  for (int i = 0; i < c.size(); ++i) {
    const std::string r = c.node(i).command({"GET", key});
    if (r.rfind("MOVED", 0) != 0 && r.rfind("ERR", 0) != 0) return c.node(i).port();
  }
  return -1;
}

// `n` resources whose keys are spread over every master of `c`.
std::vector<std::string> spread_resources(crosscut::testing::RedisCluster& c,
                                          const std::string& name, std::size_t per_master) {
  // Resources of their own on every call: the shared cluster keeps what earlier tests wrote.
  static std::mt19937_64 rng{std::random_device{}()};
  const std::string tag = name + "-" + std::to_string(rng() % 1'000'000'000);
  std::map<int, std::vector<std::string>> by_port;
  for (int i = 0; by_port.size() < static_cast<std::size_t>(c.size()) ||
                  std::any_of(by_port.begin(), by_port.end(),
                              [&](const auto& e) { return e.second.size() < per_master; });
       ++i) {
    const std::string r = tag + "/" + std::to_string(i) + "/ticker";
    auto& list = by_port[master_port(c, r)];
    if (list.size() < per_master) list.push_back(r);
    if (i > 100'000) throw std::runtime_error("could not spread resources over the masters");
  }
  std::vector<std::string> out;
  for (const auto& [port, list] : by_port) out.insert(out.end(), list.begin(), list.end());
  return out;
}

}  // namespace

TEST(RedisClusterBackend, KeysAreListedFromEveryMaster) {
  crosscut::testing::TestHost host;
  const auto resources = spread_resources(shared_cluster(), "listing", 2);
  auto o = cluster_options(shared_cluster());
  // A prefix of this test's own: the listing holds exactly its breakers.
  o.key_prefix = "listing:" + resources.front().substr(0, resources.front().find('/'));
  RedisBreakerBackend b(o, host);
  crosscut::sdk::BreakerPolicy p;
  for (const auto& r : resources) EXPECT_FALSE(b.apply(r, BreakerOp::failure, p, 1000).degraded);
  auto listed = b.keys();
  std::set<std::string> expected(resources.begin(), resources.end());
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), expected);
}

TEST(RedisClusterBackend, EightProcessesMakeOneTransitionPerEpisodeOnEveryMaster) {
  crosscut::testing::TempDir dir;
  auto& c = shared_cluster();
  auto config = dir.write("cluster.yaml",
                          "breakers:\n"
                          "  backend: {type: redis, url: \"" +
                              c.url() +
                              "\", cluster: true, use_server_time: false}\n"
                              "  defaults: {failure_threshold: 5, success_threshold: 3, "
                              "timeout: 60s, half_open_max_calls: 3, sliding_window: 300s}\n");
  const auto resources = spread_resources(c, "race", 2);
  auto run_phase = [&](const std::string& trace) {
    std::vector<crosscut::testing::ProcessResult> results(8);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < results.size(); ++i)
      threads.emplace_back([&, i] {
        results[i] = crosscut::testing::run_crosscut(
            {"breaker", "simulate", "-c", config.string(), "--key", "unused/unused/unused"}, trace);
      });
    for (auto& t : threads) t.join();
    std::map<std::string, std::pair<int, int>> per_key;  // transitions, allowed
    for (const auto& r : results) {
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.err.find("unreachable"), std::string::npos) << r.err;
      std::size_t start = 0;
      while (start < r.out.size()) {
        const std::size_t end = r.out.find('\n', start);
        const std::string line = r.out.substr(start, end - start);
        start = end == std::string::npos ? r.out.size() : end + 1;
        for (const auto& k : resources) {
          if (line.find("\"key\":\"" + k + "\"") == std::string::npos) continue;
          per_key[k].first += line.find("\"transition\":{") != std::string::npos ? 1 : 0;
          per_key[k].second += line.find("\"allowed\":true") != std::string::npos ? 1 : 0;
        }
      }
    }
    return per_key;
  };
  auto trace = [&](const char* op, std::int64_t t0, int n) {
    std::string out;
    for (int i = 0; i < n; ++i)
      for (const auto& k : resources)
        out += "{\"t_ms\":" + std::to_string(t0 + i) + ",\"op\":\"" + op + "\",\"key\":\"" + k +
               "\"}\n";
    return out;
  };
  for (const auto& [k, seen] : run_phase(trace("failure", 1000, 10)))
    EXPECT_EQ(seen.first, 1) << k << ": CLOSED -> OPEN once";
  for (const auto& [k, seen] : run_phase(trace("acquire", 70'000, 10))) {
    EXPECT_EQ(seen.first, 1) << k << ": OPEN -> HALF_OPEN once";
    EXPECT_EQ(seen.second, 3) << k << ": half_open_max_calls permits in all";
  }
  for (const auto& [k, seen] : run_phase(trace("success", 71'000, 5)))
    EXPECT_EQ(seen.first, 1) << k << ": HALF_OPEN -> CLOSED once";
}

TEST(RedisClusterBackend, ALiveReshardLosesNoOperation) {
  crosscut::testing::RedisCluster c(3);  // its own: the reshard moves slots for good
  crosscut::testing::TestHost host;
  auto o = cluster_options(c);
  o.local_view = false;
  o.command_timeout = std::chrono::milliseconds(500);
  RedisBreakerBackend b(o, host);
  crosscut::sdk::BreakerPolicy p;
  p.failure_threshold = 1'000'000'000;  // stays CLOSED: every failure is kept
  p.sliding_window = std::chrono::hours(1);
  const auto resources = spread_resources(c, "reshard", 10);
  std::vector<std::string> on_first;  // the ones the reshard moves away
  for (const auto& r : resources)
    if (master_port(c, r) == c.node(0).port()) on_first.push_back(r);
  ASSERT_FALSE(on_first.empty());

  std::atomic<bool> resharding{true};
  crosscut::testing::ProcessResult moved;
  std::thread reshard([&] {
    // Every slot of the first master goes to the second, while the traffic runs.
    moved = crosscut::testing::run_process(
        {"/usr/bin/redis-cli", "--cluster", "reshard", c.addresses()[0], "--cluster-from", c.id(0),
         "--cluster-to", c.id(1), "--cluster-slots", "16384", "--cluster-yes"});
    resharding = false;
  });
  std::map<std::string, std::uint32_t> recorded;
  std::uint64_t degraded = 0;
  std::int64_t t = 1'000'000;
  std::uint64_t during = 0;  // rounds that began while the reshard ran
  bool running = true;
  while (running) {
    running = resharding;  // one more round after the reshard ends
    for (const auto& r : resources) {
      auto res = b.apply(r, BreakerOp::failure, p, ++t);
      degraded += res.degraded ? 1 : 0;
      if (!res.degraded) ++recorded[r];
    }
    if (running) ++during;
  }
  reshard.join();
  ASSERT_EQ(moved.exit_code, 0) << moved.out << moved.err;
  EXPECT_EQ(degraded, 0u) << "every operation reached its master";
  EXPECT_GT(during, 0u) << "the traffic overlapped the reshard";
  for (const auto& r : resources)
    EXPECT_EQ(b.apply(r, BreakerOp::state, p, t).failures, recorded[r]) << r;
  for (const auto& r : on_first) EXPECT_EQ(master_port(c, r), c.node(1).port()) << r;
}

TEST(RedisClusterBackend, AKilledMasterFailsOnlyItsBreakersOverAndTheyComeBackWithIt) {
  crosscut::testing::RedisCluster c(3);
  crosscut::testing::TestHost host;
  auto o = cluster_options(c);
  o.local_view = false;
  RedisBreakerBackend b(o, host);
  crosscut::sdk::BreakerPolicy p;
  const auto resources = spread_resources(c, "restart", 1);
  std::string down;  // the breaker whose master is killed
  std::vector<std::string> up;
  for (const auto& r : resources) {
    if (master_port(c, r) == c.node(2).port())
      down = r;
    else
      up.push_back(r);
  }
  ASSERT_FALSE(down.empty());
  for (const auto& r : resources) ASSERT_FALSE(b.apply(r, BreakerOp::failure, p, 1000).degraded);

  c.node(2).kill();
  EXPECT_TRUE(b.apply(down, BreakerOp::failure, p, 1001).degraded) << "answered by on_unavailable";
  EXPECT_TRUE(b.unavailable());
  for (const auto& r : up) EXPECT_FALSE(b.apply(r, BreakerOp::failure, p, 1001).degraded) << r;
  const auto errors = host.errors();
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.back().kind, "redis_connection");

  c.node(2).start();  // the same port and nodes.conf: it rejoins with its slots
  ASSERT_TRUE(c.wait_ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  crosscut::sdk::BreakerResult back;
  do {
    back = b.apply(down, BreakerOp::state, p, 1002);
  } while (back.degraded && std::chrono::steady_clock::now() < deadline);
  EXPECT_FALSE(back.degraded) << "the restarted master serves its breakers again";
  EXPECT_FALSE(b.unavailable());
}

TEST(RedisClusterBackend, AChangeOnAnyMasterReachesAViewSubscribedToAnotherNode) {
  auto& c = shared_cluster();
  crosscut::testing::TestHost writer_host;
  crosscut::testing::TestHost reader_host;
  auto writer_options = cluster_options(c);
  writer_options.local_view = false;
  auto reader_options = cluster_options(c);
  reader_options.url = c.node(1).url();  // subscribed to the second node
  // No re-read within the test: only the publication can bring the change.
  reader_options.view_refresh = std::chrono::seconds(60);
  RedisBreakerBackend writer(writer_options, writer_host);
  RedisBreakerBackend reader(reader_options, reader_host);
  ASSERT_TRUE(reader.view_subscription()->wait_live(std::chrono::seconds(10)));
  crosscut::sdk::BreakerPolicy p;
  // One breaker on each master: the publication of each reaches the reader through the
  // cluster bus, wherever the key lives.
  for (const auto& r : spread_resources(c, "pubsub", 1)) {
    EXPECT_EQ(reader.apply(r, BreakerOp::state, p, std::nullopt).state, BreakerState::closed);
    writer.apply(r, BreakerOp::force_open, p, std::nullopt);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    const auto trips = reader.round_trips();
    BreakerState seen = BreakerState::closed;
    while (seen != BreakerState::open && std::chrono::steady_clock::now() < deadline)
      seen = reader.apply(r, BreakerOp::state, p, std::nullopt).state;
    EXPECT_EQ(seen, BreakerState::open) << r;
    EXPECT_EQ(reader.round_trips(), trips) << r << ": learned from the publication";
  }
}

TEST(RedisClusterBackend, AFlushedScriptIsLoadedAgainOnThatNode) {
  auto& c = shared_cluster();
  crosscut::testing::TestHost host;
  auto o = cluster_options(c);
  o.local_view = false;
  RedisBreakerBackend b(o, host);
  crosscut::sdk::BreakerPolicy p;
  const auto resources = spread_resources(c, "noscript", 1);
  for (const auto& r : resources) ASSERT_FALSE(b.apply(r, BreakerOp::failure, p, 1000).degraded);
  for (int i = 0; i < c.size(); ++i) EXPECT_EQ(c.node(i).command({"SCRIPT", "FLUSH"}), "OK");
  for (const auto& r : resources) {
    auto res = b.apply(r, BreakerOp::failure, p, 1001);
    EXPECT_FALSE(res.degraded) << r;
    EXPECT_EQ(res.failures, 2u) << r;
  }
}

TEST(RedisClusterSimulator, GivesTheSameOutputAsTheMemoryBackendForTheSameTrace) {
  crosscut::testing::TempDir dir;
  const auto keys = spread_resources(shared_cluster(), "sim", 1);
  // The lines without a key go to a rate-mode breaker of its own.
  const std::string rate_key = spread_resources(shared_cluster(), "simrate", 1).front();
  const std::string policy =
      "  defaults: {failure_threshold: 3, success_threshold: 2, timeout: 2s, "
      "half_open_max_calls: 2, sliding_window: 30s, backoff_multiplier: 1.7, max_timeout: 9s, "
      "jitter: 0.35}\n"
      "  overrides:\n"
      "    \"" +
      rate_key +
      "\": {mode: rate, bucket: 2s, sliding_window: 20s, minimum_calls: 3, "
      "failure_rate: 0.6, slow_call_duration: 600ms, slow_call_rate: 0.5}\n";
  auto cluster_cfg =
      dir.write("c.yaml", "breakers:\n  backend: {type: redis, url: \"" + shared_cluster().url() +
                              "\", cluster: true, use_server_time: false}\n" + policy);
  auto memory_cfg = dir.write("m.yaml", "breakers:\n  backend: {type: memory}\n" + policy);
  std::string trace;
  auto line = [&](std::int64_t at, const std::string& op, const std::string& key) {
    // How long the call took, for the slow-call rule: success and failure only.
    const bool outcome = op == "success" || op == "failure";
    trace += "{\"t_ms\":" + std::to_string(at) + ",\"op\":\"" + op + "\"" +
             (key.empty() ? "" : ",\"key\":\"" + key + "\"") +
             (outcome ? ",\"duration_ms\":" + std::to_string((at * 7) % 1000) : "") + "}\n";
  };
  const char* ops[] = {"acquire", "failure", "success", "state", "failure", "acquire", "failure"};
  std::int64_t t = 0;
  for (int round = 0; round < 10; ++round) {
    for (const char* op : ops) {
      for (const auto& k : keys) line(t, op, k);
      line(t, op, "");
      t += 700 + (round * 131) % 4000;
    }
    if (round == 6) line(t, "reset", "");
  }
  auto on_cluster = crosscut::testing::run_crosscut(
      {"breaker", "simulate", "-c", cluster_cfg.string(), "--key", rate_key}, trace);
  auto on_memory = crosscut::testing::run_crosscut(
      {"breaker", "simulate", "-c", memory_cfg.string(), "--key", rate_key}, trace);
  ASSERT_EQ(on_cluster.exit_code, 0) << on_cluster.err;
  ASSERT_EQ(on_memory.exit_code, 0) << on_memory.err;
  EXPECT_EQ(on_cluster.out, on_memory.out);
  EXPECT_NE(on_memory.out.find("\"to\":\"OPEN\""), std::string::npos);
  EXPECT_NE(on_memory.out.find("\"to\":\"HALF_OPEN\""), std::string::npos);
}
