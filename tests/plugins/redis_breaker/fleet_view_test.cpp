// The local view between real processes: a running agent answers its clients' `acquire` from
// its view, and `crosscut breaker open` / `reset`, run as separate processes against the same
// Redis, reach it through the subscription.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "redis_fixture.hpp"
#include "support/process.hpp"
#include "support/unix_client.hpp"

namespace {

TEST(RedisFleetView, ABreakerOpenedByTheCommandLineIsRefusedByARunningAgent) {
  crosscut::testing::RedisServer server;
  crosscut::testing::TempDir dir;
  const std::string sock = (dir.path() / "events.sock").string();
  const std::string key = "upbit/korea/ticker";
  auto config =
      dir.write("agent.yaml", "breakers:\n  backend: {type: redis, url: \"" + server.url() +
                                  "\", view_refresh: 1h, command_timeout: 2s}\n"
                                  "inputs: [{type: unix, path: \"" +
                                  sock + "\"}]\n");
  auto agent = crosscut::testing::start_crosscut({"run", "-c", config.string()});
  ASSERT_TRUE(agent->wait_for_stderr("crosscut agent started", std::chrono::seconds(30)));
  const int fd = crosscut::testing::connect_unix(sock);
  ASSERT_GE(fd, 0);
  crosscut::testing::LineReader replies(fd);
  int id = 0;
  // One acquire; its reply without the id (checked here), e.g. "allowed:true CLOSED".
  auto acquire = [&] {
    const std::string prefix = R"({"id":)" + std::to_string(++id) + R"(,"ok":true,"allowed":)";
    crosscut::testing::send_all(
        fd, R"({"event":"acquire","resource":")" + key + R"(","id":)" + std::to_string(id) + "}\n");
    std::string line = replies.next();
    if (line.rfind(prefix, 0) != 0) return "unexpected: " + line;
    return line.substr(prefix.size());
  };
  auto reply = [](const char* allowed, const char* state) {
    return std::string(allowed) + R"(,"state":")" + state + "\"}";
  };
  ASSERT_EQ(acquire(), reply("true", "CLOSED"));

  // The agent's view is subscribed once its answers stop costing round trips.
  const auto subscribed_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool local = false;
  while (!local && std::chrono::steady_clock::now() < subscribed_by) {
    const long long before = crosscut::testing::evalsha_calls(server);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(acquire(), reply("true", "CLOSED"));
    local = crosscut::testing::evalsha_calls(server) == before;
  }
  ASSERT_TRUE(local) << "the agent's view never answered locally";

  auto opened = crosscut::testing::run_crosscut({"breaker", "open", "-c", config.string(), key});
  ASSERT_EQ(opened.exit_code, 0) << opened.err;
  const auto started = std::chrono::steady_clock::now();
  const long long before = crosscut::testing::evalsha_calls(server);
  int polls = 0;
  std::string r;
  do {
    r = acquire();
    ++polls;
  } while (r == reply("true", "CLOSED") &&
           std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(r, reply("false", "OPEN")) << "after " << ms << " ms";
  EXPECT_EQ(crosscut::testing::evalsha_calls(server), before)
      << "the refusals were the view's, not round trips";
  std::printf("refused %.3f ms after `crosscut breaker open` exited (%d acquires)\n", ms, polls);
  auto status = crosscut::testing::run_crosscut({"breaker", "status", "-c", config.string(), key});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("OPEN_UNTIL_MS"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(" OPEN "), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("(forced)"), std::string::npos) << "a forced breaker has no end";

  auto reset = crosscut::testing::run_crosscut({"breaker", "reset", "-c", config.string(), key});
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  const auto reset_at = std::chrono::steady_clock::now();
  do {
    r = acquire();
  } while (r == reply("false", "OPEN") &&
           std::chrono::steady_clock::now() - reset_at < std::chrono::seconds(10));
  EXPECT_EQ(r, reply("true", "CLOSED"));

  ::close(fd);
  agent->signal(SIGTERM);
  auto done = agent->wait();
  EXPECT_EQ(done.exit_code, 0) << done.err;
}

}  // namespace
