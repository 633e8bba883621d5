// `crosscut run` end to end with the built binary: the README's replay, Unix socket clients,
// and a followed file that is rotated. Synchronisation is on what the agent reports (its
// health records), never on time.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/process.hpp"
#include "support/unix_client.hpp"

using crosscut::testing::connect_unix;
using crosscut::testing::run_crosscut;
using crosscut::testing::send_all;
using crosscut::testing::start_crosscut;

namespace {

const std::string kSource = CROSSCUT_TEST_SOURCE_DIR;

// Every minute batch on stdout, as "minute symbol count" lines, sorted: comparable across runs.
std::vector<std::string> batch_counts(const std::string& out, std::uint64_t* total = nullptr) {
  std::vector<std::string> rows;
  std::istringstream in(out);
  std::string line;
  if (total) *total = 0;
  while (std::getline(in, line)) {
    rapidjson::Document d;
    d.Parse(line.c_str());
    if (d.HasParseError() || !d.IsObject() || std::string(d["topic"].GetString()) != "ws.metrics")
      continue;
    for (const auto& item : d["value"]["batch"]["items"].GetArray()) {
      if (total) *total += item["total"].GetUint64();
      for (const auto& m : item["details"].GetObject())
        rows.push_back(std::to_string(item["minute_start_ts_kst"].GetInt64()) + " " +
                       m.name.GetString() + " " + std::to_string(m.value.GetInt()));
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

// On a failed wait: stop the agent and return what it printed.
std::string stop_and_collect(crosscut::testing::RunningProcess& agent) {
  agent.signal(SIGKILL);
  return agent.wait().err;
}

std::string message_line(const std::string& symbol, std::int64_t ts) {
  return R"({"event":"message","target":{"exchange":"upbit","region":"korea","request_type":"ticker"},"symbol":")" +
         symbol + R"(","ts_ms":)" + std::to_string(ts) + "}\n";
}

}  // namespace

TEST(AgentReplay, TheQuickstartReplayEndsByItselfAndGivesIdenticalBatchesEveryRun) {
  auto first = run_crosscut({"run", "-c", kSource + "/configs/quickstart.yaml"});
  auto second = run_crosscut({"run", "-c", kSource + "/configs/quickstart.yaml"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0) << second.err;
  std::uint64_t total = 0;
  auto rows = batch_counts(first.out, &total);
  EXPECT_EQ(rows, batch_counts(second.out));
  // Every line of the Upbit sample is one message.
  std::ifstream sample(kSource + "/configs/samples/upbit-ticker.ndjson");
  std::uint64_t lines = 0;
  for (std::string l; std::getline(sample, l);) ++lines;
  EXPECT_EQ(total, lines);
  EXPECT_EQ(rows.size(), 50u);  // 10 minutes x 5 symbols
  // The error reports: the rule renamed the 429, the burst of failures opened the breaker.
  EXPECT_NE(first.out.find("\"kind\":\"rate_limited\""), std::string::npos);
  EXPECT_NE(first.out.find("\"breaker\":{\"key\":\"upbit/korea/ticker\",\"state\":\"OPEN\"}"),
            std::string::npos);
  EXPECT_NE(first.err.find("every input has ended"), std::string::npos);
  // PII from the events never leaves the process.
  EXPECT_EQ(first.err.find("ops@example.com"), std::string::npos);
}

TEST(AgentReplay, StdinReplayEndsAtEndOfInput) {
  crosscut::testing::TempDir dir;
  auto config =
      dir.write("stdin.yaml",
                "sinks: {out: {type: stdout}}\nmetrics: {sink: out}\ninputs: [{type: stdin}]\n");
  std::string input;
  for (int i = 0; i < 500; ++i)
    input += message_line(i % 2 ? "BTC" : "ETH", 1737619200000 + i * 1000);
  input += "garbage line\n";
  auto r = run_crosscut({"run", "-c", config.string()}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::uint64_t total = 0;
  batch_counts(r.out, &total);
  EXPECT_EQ(total, 500u);
  EXPECT_NE(r.err.find("bad input line skipped"), std::string::npos);
  EXPECT_NE(r.err.find("\"line\":501"), std::string::npos) << r.err;
}

TEST(AgentSocket, ThreeClientsWithGarbageThenSigtermCountEveryMessage) {
  crosscut::testing::TempDir dir;
  std::string sock = (dir.path() / "events.sock").string();
  auto config = dir.write("agent.yaml",
                          "sinks: {out: {type: stdout}}\nmetrics: {sink: out}\n"
                          "agent: {health_interval: 20ms}\n"
                          "inputs: [{type: unix, path: \"" +
                              sock + "\"}]\n");
  auto agent = start_crosscut({"run", "-c", config.string()});
  ASSERT_TRUE(agent->wait_for_stderr("crosscut agent started", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  EXPECT_EQ(std::filesystem::status(sock).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read | std::filesystem::perms::group_write);
  constexpr int kClients = 3, kPerClient = 400;
  std::vector<int> fds;
  for (int c = 0; c < kClients; ++c) {
    fds.push_back(connect_unix(sock));
    ASSERT_GE(fds.back(), 0);
  }
  for (int i = 0; i < kPerClient; ++i) {
    for (int c = 0; c < kClients; ++c) {
      std::string chunk = message_line("S" + std::to_string(c), 1737619200000 + i * 100);
      if (i % 97 == 0) chunk += "{not json at all\n\x01\x02\xff\n";
      ASSERT_TRUE(send_all(fds[static_cast<std::size_t>(c)], chunk));
    }
  }
  for (int fd : fds) close(fd);
  const std::string expect = "\"messages\":" + std::to_string(kClients * kPerClient) + ",";
  ASSERT_TRUE(agent->wait_for_stderr(expect, std::chrono::seconds(60))) << stop_and_collect(*agent);
  agent->signal(SIGTERM);
  auto r = agent->wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::uint64_t total = 0;
  auto rows = batch_counts(r.out, &total);
  EXPECT_EQ(total, static_cast<std::uint64_t>(kClients * kPerClient));
  EXPECT_FALSE(std::filesystem::exists(sock));
}

TEST(AgentFollow, AFollowedFileThatIsRotatedLosesNoLine) {
  crosscut::testing::TempDir dir;
  auto log = dir.path() / "events.ndjson";
  auto config = dir.write("follow.yaml",
                          "sinks: {out: {type: stdout}}\nmetrics: {sink: out}\n"
                          "agent: {health_interval: 20ms}\n"
                          "inputs: [{type: file, path: \"" +
                              log.string() + "\", follow: true}]\n");
  auto agent = start_crosscut({"run", "-c", config.string()});
  ASSERT_TRUE(agent->wait_for_stderr("crosscut agent started", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  // Like logrotate: lines appended, the file renamed away and a new one started. Each file is
  // read to its end before the next rotation (tail -F, too, can skip a file rotated away
  // twice before it got there). Some lines go into the renamed file after the rename.
  int written = 0;
  auto append = [&](const std::filesystem::path& file, int n, const char* symbol) {
    std::ofstream out(file, std::ios::app);
    for (int i = 0; i < n; ++i, ++written)
      out << message_line(symbol, 1737619200000 + written * 10);
  };
  for (int rotation = 0; rotation < 3; ++rotation) {
    append(log, 300, "BTC");
    ASSERT_TRUE(agent->wait_for_stderr("\"messages\":" + std::to_string(written) + ",",
                                       std::chrono::seconds(60)))
        << stop_and_collect(*agent);
    auto rotated = dir.path() / ("events.ndjson." + std::to_string(rotation));
    std::filesystem::rename(log, rotated);
    append(rotated, 50, "XRP");  // a writer still holding the old file
    append(log, 100, "ETH");     // and the new file
  }
  ASSERT_TRUE(agent->wait_for_stderr("\"messages\":" + std::to_string(written) + ",",
                                     std::chrono::seconds(60)))
      << stop_and_collect(*agent);
  agent->signal(SIGTERM);
  auto r = agent->wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::uint64_t total = 0;
  batch_counts(r.out, &total);
  EXPECT_EQ(total, static_cast<std::uint64_t>(written));
}

TEST(AgentSignals, SighupReopensLogFilesAfterAnExternalRotation) {
  crosscut::testing::TempDir dir;
  auto log = dir.path() / "agent.log";
  auto config =
      dir.write("hup.yaml",
                "logging:\n  sinks:\n    - {type: console}\n    - {type: rotating_file, path: \"" +
                    log.string() + "\"}\n");
  auto agent = start_crosscut({"run", "-c", config.string()});
  ASSERT_TRUE(agent->wait_for_stderr("crosscut agent started", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  std::filesystem::rename(log, dir.path() / "agent.log.1");  // what logrotate does
  agent->signal(SIGHUP);
  ASSERT_TRUE(agent->wait_for_stderr("reopening log files", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  agent->signal(SIGTERM);
  auto r = agent->wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  // Records before the reopen went to the rotated file, the later ones to a new file.
  EXPECT_NE(read(dir.path() / "agent.log.1").find("crosscut agent started"), std::string::npos);
  ASSERT_TRUE(std::filesystem::exists(log));
  EXPECT_NE(read(log).find("\"message\":\"stopping\""), std::string::npos) << read(log);
}

// The socket protocol against the real agent: several connections pipeline thousands of
// requests each, mixed with one-way lines; every connection's replies come back in its order,
// the breaker they share opens for all of them, and every message is counted exactly.
TEST(AgentProtocol, PipelinedRequestsOnSeveralConnectionsAreAnsweredInOrder) {
  crosscut::testing::TempDir dir;
  std::string sock = (dir.path() / "events.sock").string();
  auto config = dir.write("agent.yaml",
                          "sinks: {out: {type: stdout}}\nmetrics: {sink: out}\n"
                          "breakers: {defaults: {failure_threshold: 3, timeout: 1h}}\n"
                          "inputs: [{type: unix, path: \"" +
                              sock + "\"}]\n");
  auto agent = start_crosscut({"run", "-c", config.string()});
  ASSERT_TRUE(agent->wait_for_stderr("crosscut agent started", std::chrono::seconds(30)))
      << stop_and_collect(*agent);
  constexpr int kClients = 3, kPerClient = 5000;
  std::vector<std::thread> clients;
  std::vector<int> in_order(kClients, 0);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      const int fd = connect_unix(sock);
      if (fd < 0) return;
      // Every request goes out before a reply is read: the whole burst is in flight at once.
      std::string burst;
      for (int i = 0; i < kPerClient; ++i) {
        const std::string id = std::to_string(c) + "-" + std::to_string(i);
        if (i % 3 == 0)
          burst += R"({"event":"acquire","resource":"shared/r/t","id":")" + id + "\"}\n";
        else if (i % 3 == 1)
          burst += message_line("S" + std::to_string(c), 1737619200000)
                       .insert(1, R"("id":")" + id + "\",");
        else
          burst +=
              R"({"event":"message","target":{"exchange":"upbit","region":"korea","request_type":"ticker"},"symbol":"one-way"})"
              "\n";  // no id: no reply
      }
      std::thread writer([&] { send_all(fd, burst); });
      crosscut::testing::LineReader replies(fd);
      for (int i = 0; i < kPerClient; ++i) {
        if (i % 3 == 2) continue;
        rapidjson::Document r;
        r.Parse(replies.next().c_str());
        const std::string id = std::to_string(c) + "-" + std::to_string(i);
        if (r.HasParseError() || !r.IsObject() || !r.HasMember("id") || !r["id"].IsString() ||
            r["id"].GetString() != id || !r["ok"].IsTrue())
          break;
        in_order[static_cast<std::size_t>(c)] = i + 1;
      }
      writer.join();
      ::close(fd);
    });
  }
  for (auto& t : clients) t.join();
  for (int c = 0; c < kClients; ++c)
    EXPECT_EQ(in_order[static_cast<std::size_t>(c)], kPerClient) << "client " << c;

  // Three failures reported by one connection open the breaker every connection asks.
  const int reporter = connect_unix(sock);
  ASSERT_GE(reporter, 0);
  std::string failures;
  for (int i = 0; i < 3; ++i)
    failures += R"({"event":"outcome","resource":"shared/r/t","success":false})"
                "\n";
  ASSERT_TRUE(send_all(reporter, failures + R"({"event":"flush","id":1})" + "\n"));
  crosscut::testing::LineReader reporter_replies(reporter);
  EXPECT_EQ(reporter_replies.next(), R"({"id":1,"ok":true})");
  const int asker = connect_unix(sock);
  ASSERT_TRUE(send_all(asker, R"({"event":"acquire","resource":"shared/r/t","id":2})"
                              "\n"));
  crosscut::testing::LineReader asker_replies(asker);
  EXPECT_EQ(asker_replies.next(), R"({"id":2,"ok":true,"allowed":false,"state":"OPEN"})");
  ::close(reporter);
  ::close(asker);

  agent->signal(SIGTERM);
  auto r = agent->wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::uint64_t total = 0;
  batch_counts(r.out, &total);
  // Two in three lines of each client are messages: the acknowledged and the one-way ones.
  std::uint64_t messages_per_client = 0;
  for (int i = 0; i < kPerClient; ++i) messages_per_client += i % 3 != 0 ? 1 : 0;
  EXPECT_EQ(total, kClients * messages_per_client);
  EXPECT_NE(r.err.find("\"replies_dropped\":0"), std::string::npos) << r.err;
}

// A flush is a sync point: once it is answered, the log records sent before it are in the
// log file.
TEST(AgentProtocol, AFlushIsAnsweredOnceTheLogRecordsBeforeItAreWritten) {
  crosscut::testing::TempDir dir;
  std::string sock = (dir.path() / "events.sock").string();
  const auto log_file = dir.path() / "agent.log";
  auto config = dir.write("agent.yaml",
                          "logging: {sinks: [{type: rotating_file, path: \"" + log_file.string() +
                              "\"}]}\ninputs: [{type: unix, path: \"" + sock + "\"}]\n");
  auto agent = start_crosscut({"run", "-c", config.string()});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int fd = -1;
  while (fd < 0 && std::chrono::steady_clock::now() < deadline) {
    fd = connect_unix(sock);
    if (fd < 0) std::this_thread::yield();
  }
  ASSERT_GE(fd, 0) << stop_and_collect(*agent);
  constexpr int kRecords = 3000;
  std::string lines;
  for (int i = 0; i < kRecords; ++i)
    lines += R"({"event":"log","level":"info","logger":"collector","message":"tick )" +
             std::to_string(i) + "\"}\n";
  ASSERT_TRUE(send_all(fd, lines + R"({"event":"flush","id":"sync"})" + "\n"));
  crosscut::testing::LineReader replies(fd);
  ASSERT_EQ(replies.next(), R"({"id":"sync","ok":true})");
  std::ifstream in(log_file);
  int written = 0;
  for (std::string l; std::getline(in, l);)
    written += l.find("\"message\":\"tick ") != std::string::npos ? 1 : 0;
  EXPECT_EQ(written, kRecords);
  ::close(fd);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait().exit_code, 0);
}
