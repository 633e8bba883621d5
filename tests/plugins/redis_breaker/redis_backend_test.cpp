// The Redis backend on a real redis-server: key layout and TTLs, server time, script reloads,
// foreign data in its keys, and faults (outage, wrong password, a peer that is not Redis, a
// peer that never answers).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>

#include "redis_fixture.hpp"
#include "support/process.hpp"

using crosscut::redis::RedisBreakerBackend;
using crosscut::redis::UnavailablePolicy;
using crosscut::sdk::BreakerOp;
using crosscut::sdk::BreakerPolicy;
using crosscut::sdk::BreakerState;
using crosscut::testing::RedisServer;
using crosscut::testing::shared_redis;
using crosscut::testing::TestHost;

namespace {

BreakerPolicy policy(std::uint32_t failures = 3) {
  BreakerPolicy p;
  p.failure_threshold = failures;
  p.success_threshold = 1;
  p.half_open_max_calls = 1;
  p.timeout = std::chrono::milliseconds(1000);
  p.sliding_window = std::chrono::milliseconds(10000);
  return p;
}

std::string unique_key(const std::string& name) {
  static std::atomic<int> n{0};
  return "test/" + name + "/" + std::to_string(getpid()) + "-" + std::to_string(n++);
}

// A TCP peer on loopback that either never answers or answers like an HTTP server.
class HostilePeer {
 public:
  enum class Mode { silent, http };
  explicit HostilePeer(Mode mode) : mode_(mode) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("hostile peer: bind failed");
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (listen(fd_, 16) != 0) throw std::runtime_error("hostile peer: listen failed");
    thread_ = std::thread([this] { serve(); });
  }
  ~HostilePeer() {
    stop_ = true;
    thread_.join();
    for (int c : clients_) close(c);
    close(fd_);
  }
  int port() const { return port_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      if (mode_ == Mode::http) {
        const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        [[maybe_unused]] auto n = write(c, reply, sizeof reply - 1);
        close(c);
      } else {
        clients_.push_back(c);  // keep it open, say nothing
      }
    }
  }
  Mode mode_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> clients_;
  std::thread thread_;
};

std::unique_ptr<RedisBreakerBackend> backend_for(
    const std::string& url, TestHost& host,
    UnavailablePolicy on_unavailable = UnavailablePolicy::local) {
  auto o = crosscut::testing::redis_options(url);
  o.on_unavailable = on_unavailable;
  return std::make_unique<RedisBreakerBackend>(o, host);
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::size_t redis_errors(const TestHost& host) {
  std::size_t n = 0;
  for (const auto& e : host.errors()) n += e.kind == "redis_connection";
  return n;
}

}  // namespace

TEST(RedisBackend, KeysAreHashTaggedWithTtlsRefreshedOnWrite) {
  TestHost host;
  auto b = backend_for(shared_redis().url(), host);
  std::string key = unique_key("ttl");
  b->apply(key, BreakerOp::failure, policy(), 1000);
  auto [s, f] = b->redis_keys(key);
  EXPECT_EQ(s, "crosscut:cb:{" + key + "}:s");
  EXPECT_EQ(f, "crosscut:cb:{" + key + "}:f");
  EXPECT_EQ(shared_redis().command({"TYPE", s}), "hash");
  EXPECT_EQ(shared_redis().command({"TYPE", f}), "zset");
  for (const auto& k : {s, f}) {
    auto ttl = std::stoll(shared_redis().command({"PTTL", k}).substr(10));
    EXPECT_GT(ttl, 0) << k;
    EXPECT_LE(ttl, 24LL * 3600 * 1000) << k;
  }
  // Two failures in the same millisecond are two failures.
  auto r = b->apply(key, BreakerOp::failure, policy(), 1000);
  EXPECT_EQ(r.failures, 2u);
  EXPECT_EQ(shared_redis().command({"ZCARD", f}), "(integer) 2");
  auto keys = b->keys();
  EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end());
}

TEST(RedisBackend, ForcedOpenKeysDoNotExpire) {
  TestHost host;
  auto b = backend_for(shared_redis().url(), host);
  std::string key = unique_key("forced");
  b->apply(key, BreakerOp::force_open, policy(), 1000);
  EXPECT_EQ(shared_redis().command({"PTTL", b->redis_keys(key).first}), "(integer) -1");
  b->apply(key, BreakerOp::reset, policy(), 2000);
  EXPECT_NE(shared_redis().command({"PTTL", b->redis_keys(key).first}), "(integer) -1");
}

TEST(RedisBackend, UsesTheServerClockByDefault) {
  TestHost host;  // its manual clock is set in 2025: a result near today's time came from Redis
  auto o = crosscut::testing::redis_options(shared_redis().url());
  o.use_server_time = true;
  RedisBreakerBackend b(o, host);
  auto r = b.apply(unique_key("time"), BreakerOp::failure, policy(), std::nullopt);
  EXPECT_LT(std::llabs(r.now_ms - wall_ms()), 60'000);
  EXPECT_GT(std::llabs(r.now_ms - host.manual_clock().now_ms()), 60'000);
  o.use_server_time = false;
  RedisBreakerBackend local_time(o, host);
  EXPECT_EQ(local_time.apply(unique_key("time"), BreakerOp::state, policy(), std::nullopt).now_ms,
            host.manual_clock().now_ms());
}

TEST(RedisBackend, ReloadsTheScriptAfterAFlush) {
  TestHost host;
  auto b = backend_for(shared_redis().url(), host);
  std::string key = unique_key("noscript");
  b->apply(key, BreakerOp::failure, policy(), 1000);
  EXPECT_EQ(shared_redis().command({"SCRIPT", "FLUSH"}), "OK");
  auto r = b->apply(key, BreakerOp::failure, policy(), 1001);
  EXPECT_FALSE(r.degraded);
  EXPECT_EQ(r.failures, 2u);
}

TEST(RedisBackend, ConcurrentCallsOnOneConnectionSharePipelinedRoundTripsAndLoseNothing) {
  TestHost host;
  auto o = crosscut::testing::redis_options(shared_redis().url());
  o.connections = 1;
  o.local_view = false;
  RedisBreakerBackend b(o, host);
  constexpr int kThreads = 8;
  constexpr int kEach = 300;
  const auto many = policy(1'000'000);  // stays CLOSED: every failure is recorded
  std::vector<std::string> keys;
  for (int t = 0; t < kThreads; ++t) keys.push_back(unique_key("pipelined"));
  const std::string before = unique_key("pipelined-listed");
  ASSERT_FALSE(b.apply(before, BreakerOp::failure, many, 1000).degraded);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 1; i <= kEach; ++i) {
        // Each reply is the one for this thread's own call: its key's count so far.
        auto r = b.apply(keys[static_cast<std::size_t>(t)], BreakerOp::failure, many, 1000 + i);
        if (r.degraded || r.failures != static_cast<std::uint32_t>(i)) wrong.fetch_add(1);
      }
    });
  }
  // Listing keys needs the connection to itself: it gets it while the others keep it busy.
  const auto listed = b.keys();
  EXPECT_NE(std::find(listed.begin(), listed.end(), before), listed.end());
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0) << "a reply went to the wrong caller, or a call was lost";
  for (const auto& k : keys)
    EXPECT_EQ(b.apply(k, BreakerOp::state, many, 1000 + kEach).failures,
              static_cast<std::uint32_t>(kEach));
  EXPECT_GT(b.pipelined_calls(), 0u) << "eight threads on one connection never shared a write";
  // A flushed script in the middle of a pipelined batch is loaded again for those calls.
  EXPECT_EQ(shared_redis().command({"SCRIPT", "FLUSH"}), "OK");
  threads.clear();
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      auto r = b.apply(keys[static_cast<std::size_t>(t)], BreakerOp::failure, many, 5000);
      if (r.degraded || r.failures != kEach + 1) wrong.fetch_add(1);
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(RedisBackend, ForeignDataInItsKeysIsReportedAndResetRepairsIt) {
  TestHost host;
  auto b = backend_for(shared_redis().url(), host);
  std::string key = unique_key("foreign");
  shared_redis().command({"SET", b->redis_keys(key).first, "not a breaker"});
  auto r = b->apply(key, BreakerOp::failure, policy(), 1000);
  EXPECT_TRUE(r.degraded);
  auto logs = host.logs("redis_breaker");
  ASSERT_FALSE(logs.empty());
  EXPECT_NE(logs.back().message.find("failed"), std::string::npos);
  auto reset = b->apply(key, BreakerOp::reset, policy(), 1001);
  EXPECT_FALSE(reset.degraded);
  EXPECT_EQ(shared_redis().command({"TYPE", b->redis_keys(key).first}), "hash");
  EXPECT_FALSE(b->apply(key, BreakerOp::failure, policy(), 1002).degraded);
}

TEST(RedisBackend, ForeignDataInTheQuorumKeyIsRefusedBeforeAnythingIsWritten) {
  TestHost host;
  auto b = backend_for(shared_redis().url(), host);
  std::string key = unique_key("foreign-quorum");
  auto quorum = policy();
  quorum.quorum.min_instances = 2;
  shared_redis().command({"SET", b->quorum_key(key), "not a breaker"});
  EXPECT_TRUE(b->apply(key, BreakerOp::failure, quorum, 1000).degraded);
  EXPECT_EQ(shared_redis().command({"EXISTS", b->redis_keys(key).second}), "(integer) 0")
      << "no failure was recorded half way";
  EXPECT_FALSE(b->apply(key, BreakerOp::reset, quorum, 1001).degraded);
  EXPECT_EQ(shared_redis().command({"EXISTS", b->quorum_key(key)}), "(integer) 0");
  EXPECT_FALSE(b->apply(key, BreakerOp::failure, quorum, 1002).degraded);
  EXPECT_EQ(shared_redis().command({"TYPE", b->quorum_key(key)}), "zset");
}

TEST(RedisBackend, ForeignDataInTheBucketKeyIsRefusedBeforeAnythingIsWritten) {
  TestHost host;
  auto b = backend_for(shared_redis().url(), host);
  std::string key = unique_key("foreign-buckets");
  auto rate = policy();
  rate.mode = crosscut::sdk::BreakerMode::rate;
  shared_redis().command({"SET", b->bucket_key(key), "not a breaker"});
  EXPECT_TRUE(b->apply(key, BreakerOp::failure, rate, 1000).degraded);
  EXPECT_EQ(shared_redis().command({"EXISTS", b->redis_keys(key).first}), "(integer) 0")
      << "nothing was recorded half way";
  EXPECT_FALSE(b->apply(key, BreakerOp::reset, rate, 1001).degraded);
  EXPECT_EQ(shared_redis().command({"EXISTS", b->bucket_key(key)}), "(integer) 0");
  auto r = b->apply(key, BreakerOp::failure, rate, 1002);
  EXPECT_FALSE(r.degraded);
  EXPECT_EQ(r.calls, 1u);
  EXPECT_EQ(shared_redis().command({"TYPE", b->bucket_key(key)}), "zset");
}

TEST(RedisBackend, RateCountsStartAgainWhenOneOfTheirKeysWasEvictedAlone) {
  TestHost host;
  auto b = backend_for(shared_redis().url(), host);
  auto rate = policy();
  rate.mode = crosscut::sdk::BreakerMode::rate;
  rate.minimum_calls = 4;
  rate.sliding_window = std::chrono::milliseconds(60'000);
  // The bucket set goes (maxmemory eviction picks keys one by one): the totals in the hash must
  // not keep its failures.
  std::string key = unique_key("evicted-buckets");
  for (int i = 0; i < 3; ++i) b->apply(key, BreakerOp::failure, rate, 1000 + i);
  shared_redis().command({"DEL", b->bucket_key(key)});
  EXPECT_EQ(b->apply(key, BreakerOp::state, rate, 1500).failures, 0u) << "a read counts none";
  auto r = b->apply(key, BreakerOp::success, rate, 2000);
  EXPECT_EQ(r.state, BreakerState::closed) << "no phantom failures";
  EXPECT_EQ(r.calls, 1u);
  EXPECT_EQ(r.failures, 0u);
  // The hash goes: a leftover bucket set must not count either.
  key = unique_key("evicted-hash");
  for (int i = 0; i < 3; ++i) b->apply(key, BreakerOp::failure, rate, 1000 + i);
  shared_redis().command({"DEL", b->redis_keys(key).first});
  r = b->apply(key, BreakerOp::success, rate, 2000);
  EXPECT_EQ(r.state, BreakerState::closed);
  EXPECT_EQ(r.calls, 1u);
  EXPECT_EQ(r.failures, 0u);
  // Once the old bucket would have left the window, only the new outcome remains.
  EXPECT_EQ(b->apply(key, BreakerOp::state, rate, 61'000).calls, 1u);
}

TEST(RedisBackend, RateModeKeepsAtMostOneMemberPerBucketWhateverTheCallRate) {
  TestHost host;
  auto b = backend_for(shared_redis().url(), host);
  std::string key = unique_key("bucket-bound");
  auto rate = policy();
  rate.mode = crosscut::sdk::BreakerMode::rate;
  rate.minimum_calls = 1'000'000;  // never opens: only the counting is under test
  rate.bucket = std::chrono::milliseconds(1000);
  rate.sliding_window = std::chrono::milliseconds(5000);
  // 2,000 outcomes over 20 s: the window holds 5 buckets, and older ones are dropped.
  for (int i = 0; i < 2000; ++i) b->apply(key, BreakerOp::success, rate, 1'000'000 + i * 10);
  EXPECT_EQ(shared_redis().command({"ZCARD", b->bucket_key(key)}), "(integer) 5");
  auto s = b->apply(key, BreakerOp::state, rate, 1'000'000 + 1999 * 10);
  EXPECT_EQ(s.calls, 500u) << "the last five whole buckets of 100 outcomes each";
}

TEST(RedisBackend, AServerKilledUnderPipelinedTrafficFailsEveryCallOverToThePolicy) {
  RedisServer server;
  TestHost host;
  auto o = crosscut::testing::redis_options(server.url());
  o.connections = 1;
  o.local_view = false;
  RedisBreakerBackend b(o, host);
  const auto many = policy(1'000'000);
  ASSERT_FALSE(b.apply(unique_key("killed"), BreakerOp::failure, many, 1000).degraded);
  constexpr int kThreads = 8;
  std::atomic<int> answered{0};
  std::atomic<int> degraded{0};
  std::atomic<bool> killed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      const std::string key = unique_key("killed");
      // Until the kill, and then 50 calls more each: every one returns, none waits forever.
      int after = 0;
      for (int i = 1; after < 50; ++i) {
        auto r = b.apply(key, BreakerOp::failure, many, 1000 + i);
        answered.fetch_add(1);
        if (r.degraded) degraded.fetch_add(1);
        if (killed.load()) ++after;
      }
    });
  }
  while (answered.load() < 400) std::this_thread::yield();
  server.kill();
  killed = true;
  for (auto& th : threads) th.join();
  EXPECT_GE(degraded.load(), kThreads * 49) << "calls after the kill are answered by the policy";
  EXPECT_EQ(redis_errors(host), 1u) << "one outage, reported once";
}

TEST(RedisBackend, OutageFallsBackLocallyReportsOnceAndRecovers) {
  RedisServer server;
  TestHost host;
  auto b = backend_for(server.url(), host);
  std::string key = unique_key("outage");
  EXPECT_FALSE(b->apply(key, BreakerOp::failure, policy(2), 1000).degraded);
  EXPECT_EQ(redis_errors(host), 0u);

  server.kill();
  // The local breaker takes over for the key: fresh, and it follows the same rules.
  auto r1 = b->apply(key, BreakerOp::failure, policy(2), 1001);
  EXPECT_TRUE(r1.degraded);
  auto r2 = b->apply(key, BreakerOp::failure, policy(2), 1002);
  EXPECT_TRUE(r2.degraded);
  EXPECT_EQ(r2.state, BreakerState::open);
  for (int i = 0; i < 50; ++i)
    EXPECT_FALSE(b->apply(key, BreakerOp::acquire, policy(2), 1003 + i).allowed);
  EXPECT_TRUE(b->unavailable());
  EXPECT_EQ(redis_errors(host), 1u);  // one error per outage, however many calls

  server.start();
  // Reconnection backs off (at most reconnect_backoff_max); the first call after it succeeds
  // uses the shared state again, where the key had one failure.
  crosscut::sdk::BreakerResult back;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    back = b->apply(key, BreakerOp::state, policy(2), 2000);
  } while (back.degraded && std::chrono::steady_clock::now() < deadline);
  ASSERT_FALSE(back.degraded);
  EXPECT_FALSE(b->unavailable());
  EXPECT_EQ(back.state, BreakerState::closed);  // the restarted server lost everything

  server.kill();
  EXPECT_TRUE(b->apply(key, BreakerOp::failure, policy(2), 3000).degraded);
  EXPECT_EQ(redis_errors(host), 2u);  // a second outage is a second error
}

TEST(RedisBackend, AllowAndDenyPolicies) {
  TestHost host;
  int port = crosscut::testing::free_loopback_port();  // nothing listens there
  std::string url = "redis://127.0.0.1:" + std::to_string(port) + "/0";
  auto allow = backend_for(url, host, UnavailablePolicy::allow);
  auto deny = backend_for(url, host, UnavailablePolicy::deny);
  for (int i = 0; i < 10; ++i) {
    allow->apply("k/k/k", BreakerOp::failure, policy(1), 1000 + i);
    deny->apply("k/k/k", BreakerOp::success, policy(1), 1000 + i);
  }
  auto a = allow->apply("k/k/k", BreakerOp::acquire, policy(1), 2000);
  EXPECT_TRUE(a.allowed);
  EXPECT_TRUE(a.degraded);
  auto d = deny->apply("k/k/k", BreakerOp::acquire, policy(1), 2000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.state, BreakerState::open);
  EXPECT_EQ(redis_errors(host), 2u);  // one per backend, at startup
}

TEST(RedisBackend, UnreachableAtStartupSaysSoOnce) {
  TestHost host;
  int port = crosscut::testing::free_loopback_port();
  auto b = backend_for("redis://127.0.0.1:" + std::to_string(port) + "/0", host);
  for (int i = 0; i < 20; ++i) b->apply("a/b/c", BreakerOp::failure, policy(), 1000 + i);
  ASSERT_EQ(redis_errors(host), 1u);
  auto e = host.errors().front();
  EXPECT_NE(e.info.message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << e.info.message;
  EXPECT_EQ(b->apply("a/b/c", BreakerOp::state, policy(), 1100).state,
            BreakerState::open);  // local rules
}

TEST(RedisBackend, WrongPasswordIsAClearErrorAndNotACrash) {
  RedisServer server(
      RedisServer::Options{.password = "right-password", .unix_socket = "", .cluster_dir = ""});
  TestHost host;
  auto b = backend_for("redis://:wrong-password@127.0.0.1:" + std::to_string(server.port()) + "/0",
                       host);
  auto r = b->apply("a/b/c", BreakerOp::acquire, policy(), 1000);
  EXPECT_TRUE(r.degraded);
  ASSERT_EQ(redis_errors(host), 1u);
  std::string msg = host.errors().front().info.message;
  EXPECT_NE(msg.find("AUTH refused"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("wrong-password"), std::string::npos) << msg;  // never the secret itself

  TestHost good_host;
  auto good = backend_for(server.url(), good_host);
  EXPECT_FALSE(good->apply("a/b/c", BreakerOp::acquire, policy(), 1000).degraded);
}

TEST(RedisBackend, APeerThatIsNotRedisIsRefused) {
  HostilePeer http(HostilePeer::Mode::http);
  TestHost host;
  auto b = backend_for("redis://127.0.0.1:" + std::to_string(http.port()) + "/0", host);
  EXPECT_TRUE(b->apply("a/b/c", BreakerOp::acquire, policy(), 1000).degraded);
  EXPECT_EQ(redis_errors(host), 1u);
}

TEST(RedisBackend, APeerThatNeverAnswersCostsAtMostTheCommandTimeout) {
  HostilePeer silent(HostilePeer::Mode::silent);
  TestHost host;
  auto o =
      crosscut::testing::redis_options("redis://127.0.0.1:" + std::to_string(silent.port()) + "/0");
  o.command_timeout = std::chrono::milliseconds(50);
  auto start = std::chrono::steady_clock::now();
  RedisBreakerBackend b(o, host);
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(b.apply("a/b/c", BreakerOp::acquire, policy(), 1000 + i).degraded);
  // Without the timeout these calls would wait forever; the bound is loose on purpose.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(redis_errors(host), 1u);
}

TEST(RedisBackend, UnixSocketAddresses) {
  crosscut::testing::TempDir dir;
  std::string sock = (dir.path() / "redis.sock").string();
  RedisServer server(RedisServer::Options{.password = "", .unix_socket = sock, .cluster_dir = ""});
  TestHost host;
  auto b = backend_for("unix://" + sock, host);
  auto r = b->apply(unique_key("unix"), BreakerOp::failure, policy(), 1000);
  EXPECT_FALSE(r.degraded);
  EXPECT_EQ(r.failures, 1u);
}
