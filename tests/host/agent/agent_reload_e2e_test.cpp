// `crosscut run` reloading its configuration while Unix socket clients stream: counts are
// conserved exactly, connections survive, SIGHUP storms and broken files leave it running.
// The admin endpoint is reached over a Unix socket with a real HTTP client; synchronisation is
// on its answers and on the agent's health records, never on time.
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "support/process.hpp"
#include "support/unix_client.hpp"

using crosscut::testing::connect_unix;
using crosscut::testing::send_all;
using crosscut::testing::start_crosscut;

namespace {

std::string message_line(int client, int i) {
  return R"({"event":"message","target":{"exchange":"upbit","region":"korea","request_type":"ticker"},"symbol":"S)" +
         std::to_string(client) + R"(","ts_ms":)" + std::to_string(1737619200000 + i * 10) + "}\n";
}

std::uint64_t batch_total(const std::string& out) {
  std::uint64_t total = 0;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    rapidjson::Document d;
    d.Parse(line.c_str());
    if (d.HasParseError() || !d.IsObject() || std::string(d["topic"].GetString()) != "ws.metrics")
      continue;
    for (const auto& item : d["value"]["batch"]["items"].GetArray())
      total += item["total"].GetUint64();
  }
  return total;
}

httplib::Client admin_client(const std::string& socket) {
  httplib::Client c(socket);
  c.set_address_family(AF_UNIX);
  c.set_read_timeout(std::chrono::seconds(60));
  return c;
}

std::string agent_config(const std::string& sock, const std::string& admin, int threshold) {
  return "sinks: {out: {type: stdout}}\nmetrics: {sink: out}\n"
         "agent: {health_interval: 20ms}\n"
         "admin: {listen: \"" +
         admin + "\"}\nbreakers: {defaults: {failure_threshold: " + std::to_string(threshold) +
         "}}\ninputs: [{type: unix, path: \"" + sock + "\"}]\n";
}

std::string stop_and_collect(crosscut::testing::RunningProcess& agent) {
  agent.signal(SIGKILL);
  return agent.wait().err;
}

}  // namespace

TEST(AgentReload, CountsAreConservedAcrossTenReloadsWhileFourClientsStream) {
  crosscut::testing::TempDir dir;
  const std::string sock = (dir.path() / "events.sock").string();
  const std::string admin = (dir.path() / "admin.sock").string();
  const auto config = dir.write("agent.yaml", agent_config(sock, admin, 5));
  auto agent = start_crosscut({"run", "-c", config.string()});
  ASSERT_TRUE(agent->wait_for_stderr("crosscut agent started", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  auto client = admin_client(admin);
  auto ready = client.Get("/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;

  constexpr int kClients = 4, kPerClient = 3000;
  std::vector<int> fds;
  for (int c = 0; c < kClients; ++c) {
    fds.push_back(connect_unix(sock));
    ASSERT_GE(fds.back(), 0);
  }
  // Each client streams on its one connection; reloads happen meanwhile, and half of every
  // client's messages are sent after the last reload, on the same connection.
  std::atomic<int> reloads_done{0};
  std::vector<std::thread> writers;
  std::vector<int> failures(kClients, 0);
  for (int c = 0; c < kClients; ++c)
    writers.emplace_back([&, c] {
      for (int i = 0; i < kPerClient; ++i) {
        if (i == kPerClient / 2)
          while (reloads_done.load() < 10) std::this_thread::yield();
        if (!send_all(fds[static_cast<std::size_t>(c)], message_line(c, i))) {
          failures[static_cast<std::size_t>(c)] = i + 1;
          return;
        }
      }
    });
  for (int r = 0; r < 10; ++r) {
    dir.write("agent.yaml", agent_config(sock, admin, 5 + (r + 1) % 2));
    auto res = client.Post("/reload");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200) << res->body;
    reloads_done.fetch_add(1);
  }
  for (auto& w : writers) w.join();
  for (int c = 0; c < kClients; ++c)
    EXPECT_EQ(failures[static_cast<std::size_t>(c)], 0) << "client " << c << " was disconnected";
  for (int fd : fds) close(fd);
  const int total = kClients * kPerClient;
  ASSERT_TRUE(agent->wait_for_stderr("\"messages\":" + std::to_string(total) + ",",
                                     std::chrono::seconds(60)))
      << stop_and_collect(*agent);
  auto scrape = client.Get("/metrics");
  ASSERT_TRUE(scrape);
  EXPECT_NE(scrape->body.find(
                "crosscut_input_events_total{input=\"inputs[0] (unix)\",event=\"message\"} " +
                std::to_string(total) + "\n"),
            std::string::npos)
      << scrape->body;
  EXPECT_NE(scrape->body.find("crosscut_reloads_total{result=\"success\"} 10\n"),
            std::string::npos);
  agent->signal(SIGTERM);
  auto r = agent->wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(batch_total(r.out), static_cast<std::uint64_t>(total));
  EXPECT_EQ(r.err.find("input replaced by a reload"), std::string::npos);
}

TEST(AgentReload, ASighupStormAndABrokenFileLeaveTheAgentRunning) {
  crosscut::testing::TempDir dir;
  const std::string sock = (dir.path() / "events.sock").string();
  const std::string admin = (dir.path() / "admin.sock").string();
  const auto config = dir.write("agent.yaml", agent_config(sock, admin, 5));
  auto agent = start_crosscut({"run", "-c", config.string()});
  ASSERT_TRUE(agent->wait_for_stderr("crosscut agent started", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  for (int i = 0; i < 20; ++i) agent->signal(SIGHUP);
  auto client = admin_client(admin);
  auto res = client.Post("/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;

  // A broken file: the running configuration stays, and the log says where and what. Written
  // aside and renamed, as an editor does: a SIGHUP of the storm may still be being served.
  const auto broken = dir.write("agent.yaml.new",
                                agent_config(sock, admin, 5) + "metrics: {flush_interval: soon}\n");
  std::filesystem::rename(broken, config);
  agent->signal(SIGHUP);
  ASSERT_TRUE(agent->wait_for_stderr("configuration not reloaded", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  // (The file name, not the whole path: PII masking may take digits of a temporary folder
  // for a card number.)
  ASSERT_TRUE(agent->wait_for_stderr("agent.yaml:7:", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  EXPECT_EQ(client.Get("/ready")->status, 200);
  const int fd = connect_unix(sock);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, message_line(0, 1) + message_line(0, 2)));
  close(fd);
  ASSERT_TRUE(agent->wait_for_stderr("\"messages\":2,", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  auto scrape = client.Get("/metrics");
  ASSERT_TRUE(scrape);
  // The broken file's reload failed; the storm's last SIGHUP may have been served after the
  // rename too: one or two failures.
  const std::string failures = "crosscut_reloads_total{result=\"failure\"} ";
  const auto at = scrape->body.find(failures);
  ASSERT_NE(at, std::string::npos) << scrape->body;
  const int failed = std::atoi(scrape->body.c_str() + at + failures.size());
  EXPECT_GE(failed, 1) << scrape->body;
  EXPECT_LE(failed, 2) << scrape->body;
  agent->signal(SIGTERM);
  auto r = agent->wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(batch_total(r.out), 2u);
}

TEST(AgentReload, AChangedInputIsReplacedAndTheOthersKeepTheirClients) {
  crosscut::testing::TempDir dir;
  const std::string kept = (dir.path() / "kept.sock").string();
  const std::string moved = (dir.path() / "moved.sock").string();
  const std::string moved_to = (dir.path() / "moved2.sock").string();
  const std::string admin = (dir.path() / "admin.sock").string();
  auto write_config = [&](const std::string& second) {
    return dir.write("agent.yaml",
                     "sinks: {out: {type: stdout}}\nmetrics: {sink: out}\n"
                     "agent: {health_interval: 20ms}\nadmin: {listen: \"" +
                         admin + "\"}\ninputs:\n  - {type: unix, path: \"" + kept +
                         "\"}\n  - {type: unix, path: \"" + second + "\"}\n");
  };
  const auto config = write_config(moved);
  auto agent = start_crosscut({"run", "-c", config.string()});
  ASSERT_TRUE(agent->wait_for_stderr("crosscut agent started", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  const int staying = connect_unix(kept);
  ASSERT_GE(staying, 0);
  ASSERT_TRUE(send_all(staying, message_line(0, 1)));
  write_config(moved_to);
  auto client = admin_client(admin);
  auto res = client.Post("/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  ASSERT_TRUE(agent->wait_for_stderr("input replaced by a reload", std::chrono::seconds(30)));
  // The unchanged input kept its client; the changed one listens at its new path.
  ASSERT_TRUE(send_all(staying, message_line(0, 2)));
  close(staying);
  EXPECT_LT(connect_unix(moved), 0);
  const int fresh = connect_unix(moved_to);
  ASSERT_GE(fresh, 0);
  ASSERT_TRUE(send_all(fresh, message_line(1, 3)));
  close(fresh);
  ASSERT_TRUE(agent->wait_for_stderr("\"messages\":3,", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  agent->signal(SIGTERM);
  auto r = agent->wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(batch_total(r.out), 3u);
}

namespace {

// The service manager's end of $NOTIFY_SOCKET: a datagram socket the agent's sd_notify writes.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  bool bound() const { return bound_; }

  // Reads notifications until one contains `text` (true) or `timeout` passes without it.
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (seen_.find(text) != std::string::npos) {
        seen_.erase(0, seen_.find(text) + text.size());
        return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) seen_.append(buf, static_cast<std::size_t>(n)).append("\n");
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::string seen_;
};

}  // namespace

TEST(AgentSystemd, NotifiesReadyReloadingStoppingAndPingsTheWatchdog) {
  crosscut::testing::TempDir dir;
  const std::string sock = (dir.path() / "events.sock").string();
  const std::string admin = (dir.path() / "admin.sock").string();
  NotifySocket manager((dir.path() / "notify.sock").string());
  ASSERT_TRUE(manager.bound());
  const auto config = dir.write("agent.yaml", agent_config(sock, admin, 5));
  auto agent = start_crosscut(
      {"run", "-c", config.string()},
      {{"NOTIFY_SOCKET", (dir.path() / "notify.sock").string()}, {"WATCHDOG_USEC", "200000"}});
  ASSERT_TRUE(manager.wait_for("READY=1", std::chrono::seconds(30))) << stop_and_collect(*agent);
  ASSERT_TRUE(manager.wait_for("WATCHDOG=1", std::chrono::seconds(30))) << stop_and_collect(*agent);
  auto res = admin_client(admin).Post("/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ASSERT_TRUE(manager.wait_for("RELOADING=1", std::chrono::seconds(30)));
  ASSERT_TRUE(manager.wait_for("MONOTONIC_USEC=", std::chrono::seconds(30)));
  ASSERT_TRUE(manager.wait_for("READY=1", std::chrono::seconds(30)));
  agent->signal(SIGTERM);
  ASSERT_TRUE(manager.wait_for("STOPPING=1", std::chrono::seconds(30)));
  auto r = agent->wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
}
