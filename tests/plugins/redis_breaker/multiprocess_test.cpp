// Eight `crosscut breaker simulate` processes hammer one breaker in one Redis at once: the
// script keeps them consistent, so exactly one of them reports each transition and the
// half-open period grants exactly half_open_max_calls permits in total.
#include <gtest/gtest.h>

#include <thread>

#include "redis_fixture.hpp"
#include "support/process.hpp"

namespace {

constexpr int kProcesses = 8;

struct PhaseResult {
  int transitions = 0;
  int allowed = 0;
  int lines = 0;
};

PhaseResult run_phase(const std::string& config, const std::string& key, const std::string& trace) {
  std::vector<crosscut::testing::ProcessResult> results(kProcesses);
  std::vector<std::thread> threads;
  for (int i = 0; i < kProcesses; ++i) {
    threads.emplace_back([&, i] {
      results[static_cast<std::size_t>(i)] = crosscut::testing::run_crosscut(
          {"breaker", "simulate", "-c", config, "--key", key}, trace);
    });
  }
  for (auto& t : threads) t.join();
  PhaseResult out;
  for (const auto& r : results) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::size_t pos = 0;
    while ((pos = r.out.find('\n', pos)) != std::string::npos) {
      ++out.lines;
      ++pos;
    }
    for (std::size_t p = 0; (p = r.out.find("\"transition\":{", p)) != std::string::npos; ++p)
      ++out.transitions;
    for (std::size_t p = 0; (p = r.out.find("\"allowed\":true", p)) != std::string::npos; ++p)
      ++out.allowed;
  }
  return out;
}

}  // namespace

TEST(RedisMultiProcess, ExactlyOneTransitionPerEpisodeAndExactPermits) {
  crosscut::testing::RedisServer server;
  crosscut::testing::TempDir dir;
  auto config =
      dir.write("redis.yaml",
                "breakers:\n"
                "  backend: {type: redis, url: \"" +
                    server.url() +
                    "\", use_server_time: false}\n"
                    "  defaults: {failure_threshold: 5, success_threshold: 3, timeout: 60s,\n"
                    "             half_open_max_calls: 3, sliding_window: 300s}\n");
  const std::string key = "upbit/korea/ticker";

  // Episode 1: 8 x 10 failures at once -> CLOSED->OPEN, reported by exactly one process.
  std::string failures;
  for (int i = 0; i < 10; ++i)
    failures += "{\"t_ms\":" + std::to_string(1000 + i) + ",\"op\":\"failure\"}\n";
  auto opened = run_phase(config.string(), key, failures);
  EXPECT_EQ(opened.lines, kProcesses * 10);
  EXPECT_EQ(opened.transitions, 1);

  // Episode 2: after the timeout, 8 x 10 acquires -> one OPEN->HALF_OPEN, 3 permits in all.
  std::string acquires;
  for (int i = 0; i < 10; ++i)
    acquires += "{\"t_ms\":" + std::to_string(70000 + i) + ",\"op\":\"acquire\"}\n";
  auto trial = run_phase(config.string(), key, acquires);
  EXPECT_EQ(trial.transitions, 1);
  EXPECT_EQ(trial.allowed, 3);

  // Episode 3: 8 x 5 successes -> closes once (success_threshold 3).
  std::string successes;
  for (int i = 0; i < 5; ++i)
    successes += "{\"t_ms\":" + std::to_string(71000 + i) + ",\"op\":\"success\"}\n";
  auto closed = run_phase(config.string(), key, successes);
  EXPECT_EQ(closed.transitions, 1);
  EXPECT_NE(server.command({"HGET", "crosscut:cb:{" + key + "}:s", "st"}), "1");
}

TEST(RedisSimulator, GivesTheSameOutputAsTheMemoryBackendForTheSameTrace) {
  crosscut::testing::RedisServer server;
  crosscut::testing::TempDir dir;
  // Today's rules, then backoff with jitter: the durations the script decides must be the
  // state machine's to the millisecond; then rate mode with slow calls, alone and with a
  // quorum: the buckets the script keeps must count as the state machine's.
  auto defaults = [](const std::string& settings) { return "  defaults: {" + settings + "}\n"; };
  const std::string count = "failure_threshold: 3, success_threshold: 2, half_open_max_calls: 2, ";
  const std::string rate = "mode: rate, success_threshold: 2, half_open_max_calls: 2, ";
  const std::string policies[] = {
      defaults(count + "timeout: 10s, sliding_window: 30s"),
      defaults(count + "timeout: 2s, sliding_window: 30s, backoff_multiplier: 1.7, " +
               "max_timeout: 9s, jitter: 0.35"),
      defaults(count + "timeout: 2s, sliding_window: 9s, quorum: {min_instances: 2}"),
      defaults(rate + "timeout: 3s, bucket: 2s, sliding_window: 20s, minimum_calls: 3, " +
               "failure_rate: 0.6, slow_call_duration: 600ms, slow_call_rate: 0.5"),
      defaults(rate + "timeout: 2s, bucket: 1500ms, sliding_window: 12s, minimum_calls: 4, " +
               "failure_rate: 0.95, slow_call_duration: 300ms, slow_call_rate: 0.3, " +
               "quorum: {min_instances: 2}"),
  };
  for (const auto& policy : policies) {
    SCOPED_TRACE(policy);
    auto redis_cfg =
        dir.write("r.yaml", "breakers:\n  backend: {type: redis, url: \"" + server.url() +
                                "\", use_server_time: false}\n" + policy);
    auto memory_cfg = dir.write("m.yaml", "breakers:\n  backend: {type: memory}\n" + policy);
    // Keys of their own for each policy: the first run's state stays in Redis.
    const auto n = std::to_string(&policy - &policies[0]);
    const std::string key = "policy" + n + "/k";
    const std::string other = "policy" + n + "/other";
    std::string trace;
    const char* ops[] = {"acquire", "failure", "success", "state", "failure", "acquire", "failure"};
    std::int64_t t = 0;
    for (int round = 0; round < 12; ++round) {
      for (const char* op : ops) {
        // Two collectors, one of them failing twice as often (quorum traces).
        const std::string instance = t % 3 == 0 ? "collector-b" : "collector-a";
        // How long the call took, for the slow-call rules (ignored by the others).
        const bool outcome = std::string_view(op) == "success" || std::string_view(op) == "failure";
        const std::string took =
            outcome ? ",\"duration_ms\":" + std::to_string((t * 7) % 1000) : std::string();
        trace += "{\"t_ms\":" + std::to_string(t) + ",\"op\":\"" + op + "\",\"instance\":\"" +
                 instance + "\"" + took + "}\n";
        trace += "{\"t_ms\":" + std::to_string(t) + ",\"op\":\"" + op + "\",\"key\":\"" + other +
                 "\"}\n";
        t += 700 + (round * 131) % 4000;
      }
      if (round == 5) trace += "{\"t_ms\":" + std::to_string(t) + ",\"op\":\"force_open\"}\n";
      if (round == 7) trace += "{\"t_ms\":" + std::to_string(t) + ",\"op\":\"reset\"}\n";
      if (round == 3)
        trace += "{\"t_ms\":" + std::to_string(t) +
                 ",\"op\":\"open_until\",\"until_ms\":" + std::to_string(t + 9000) + "}\n";
      if (round == 10)
        trace += "{\"t_ms\":" + std::to_string(t) + ",\"op\":\"open_until\",\"for_ms\":4000}\n";
    }
    auto on_redis = crosscut::testing::run_crosscut(
        {"breaker", "simulate", "-c", redis_cfg.string(), "--key", key}, trace);
    auto on_memory = crosscut::testing::run_crosscut(
        {"breaker", "simulate", "-c", memory_cfg.string(), "--key", key}, trace);
    ASSERT_EQ(on_redis.exit_code, 0) << on_redis.err;
    ASSERT_EQ(on_memory.exit_code, 0) << on_memory.err;
    EXPECT_EQ(on_redis.out, on_memory.out);
    EXPECT_NE(on_memory.out.find("\"to\":\"OPEN\""), std::string::npos);
    EXPECT_NE(on_memory.out.find("\"to\":\"HALF_OPEN\""), std::string::npos);
    EXPECT_NE(on_memory.out.find("\"open_until_ms\":"), std::string::npos);
    // The first rate policy opens on failures (checked first), the second, which needs 95%
    // failed, on slow calls.
    if (policy.find("failure_rate: 0.6") != std::string::npos) {
      EXPECT_NE(on_memory.out.find("\"reason\":\"failure_rate\""), std::string::npos);
    }
    if (policy.find("failure_rate: 0.95") != std::string::npos) {
      EXPECT_NE(on_memory.out.find("\"reason\":\"slow_call_rate\""), std::string::npos);
    }
  }
}
