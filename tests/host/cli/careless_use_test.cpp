// The command line used as a careless or hostile operator would: closed and broken standard
// descriptors, stray signals, a validate that must change nothing, configurations that are
// not regular files or not configurations at all, inputs that cannot start, unknown commands.
// Each test reproduces one such case with the built binary.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/kafka_mock_cluster.hpp"
#include "support/process.hpp"

using crosscut::testing::run_crosscut;
using crosscut::testing::run_process;
using crosscut::testing::start_crosscut;
using crosscut::testing::TempDir;

namespace {

const std::string kBinary = CROSSCUT_TEST_BINARY;
const std::string kPlugins = CROSSCUT_TEST_PLUGIN_DIR;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string message_lines(int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out +=
        R"({"event":"message","target":{"exchange":"upbit","region":"korea","request_type":"ticker"},"symbol":"BTC","ts_ms":1700000000000})"
        "\n";
  return out;
}

// The sum of the "total" of every minute batch in NDJSON `out`.
std::uint64_t counted(const std::string& out) {
  std::uint64_t total = 0;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const std::string key = "\"total\":";
    for (auto at = line.find(key); at != std::string::npos; at = line.find(key, at + 1))
      total += std::stoull(line.substr(at + key.size()));
  }
  return total;
}

// A shell running `script` with BIN set to the built binary and the build's plugins.
crosscut::testing::ProcessResult shell(const std::string& script,
                                       const std::filesystem::path& dir) {
  return run_process({"/bin/sh", "-c", "cd '" + dir.string() + "' && " + script}, {},
                     {{"BIN", kBinary}, {"CROSSCUT_PLUGIN_PATH", kPlugins}});
}

// Metrics and errors on stdout, the log as JSON on stderr; every count published at stop.
std::string counting_config(const std::string& inputs) {
  return "crosscut: 1\n"
         "logging: {level: info, sinks: [{type: console}]}\n"
         "sinks: {out: {type: stdout}}\n"
         "metrics: {sink: out}\n"
         "errors: {sink: out}\n"
         "breakers: {backend: {type: memory}}\n" +
         inputs;
}

int one_line_count(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

}  // namespace

TEST(BrokenStandardStreams, AClosedStderrPipeNeitherKillsTheAgentNorLosesACount) {
  TempDir dir;
  dir.write("cfg.yaml", counting_config("inputs: [{type: stdin}]\n"));
  dir.write("events.ndjson", message_lines(5000));
  // `head -1` leaves after the first log line: every later write to stderr gets EPIPE.
  const auto r = shell(
      "( \"$BIN\" run -c cfg.yaml < events.ndjson 2>&1 >out.ndjson; echo $? > status ) | head -1",
      dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string status = read_file(dir.path() / "status");
  // Not 141 (SIGPIPE): the agent ran to the end; 1 because log lines were lost, and said so.
  EXPECT_EQ(status, "1\n");
  EXPECT_EQ(counted(read_file(dir.path() / "out.ndjson")), 5000u);
}

TEST(BrokenStandardStreams, ClosedStdoutAndStderrAreNotReusedForTheLogFile) {
  TempDir dir;
  dir.write("cfg.yaml",
            "crosscut: 1\n"
            "logging: {level: info, sinks: [{type: rotating_file, path: agent.log}]}\n"
            "sinks: {out: {type: stdout}}\n"
            "errors: {sink: out}\n"
            "breakers: {backend: {type: memory}}\n"
            "inputs: [{type: file, path: events.ndjson}]\n");
  dir.write(
      "events.ndjson",
      R"({"event":"error","kind":"ws_connection","exception":{"type":"HTTPError","message":"boom-report"}})"
      "\n");
  const auto r = shell("\"$BIN\" run -c cfg.yaml >&- 2>&-; echo $? > status", dir.path());
  ASSERT_EQ(r.exit_code, 0);
  const std::string log = read_file(dir.path() / "agent.log");
  ASSERT_NE(log.find("crosscut agent started"), std::string::npos) << log;
  // The error report was written to the closed stdout (/dev/null), not into the log file: the
  // log mentions the error as a log record but holds no published report envelope.
  EXPECT_EQ(log.find("\"topic\":\"ws.error\""), std::string::npos) << log;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);)
    EXPECT_EQ(line.rfind("{\"timestamp\"", 0), 0u) << "not a log record: " << line;
}

TEST(BrokenStandardStreams, AClosedStdinEndsTheStdinInputAtOnce) {
  TempDir dir;
  dir.write("cfg.yaml", counting_config("inputs: [{type: stdin}]\n"));
  const auto r =
      shell("timeout 20 \"$BIN\" run -c cfg.yaml <&- >out.ndjson 2>err.log; echo $?", dir.path());
  EXPECT_EQ(r.out, "0\n") << read_file(dir.path() / "err.log");  // 124 would be the timeout
  EXPECT_NE(read_file(dir.path() / "err.log").find("every input has ended"), std::string::npos);
}

TEST(StraySignals, SigusrAndSigalrmNeitherStopNorKillTheAgent) {
  TempDir dir;
  const auto socket = (dir.path() / "in.sock").string();
  dir.write("cfg.yaml", counting_config("inputs: [{type: unix, path: '" + socket + "'}]\n"));
  auto agent = start_crosscut({"run", "-c", (dir.path() / "cfg.yaml").string()});
  ASSERT_TRUE(agent->wait_for_stderr("crosscut agent started", std::chrono::seconds(20)));
  for (int s : {SIGUSR1, SIGUSR2, SIGALRM}) agent->signal(s);
  agent->signal(SIGTERM);
  const auto r = agent->wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("\"signal\":\"SIGTERM\""), std::string::npos) << r.err;
}

TEST(ValidateHasNoSideEffects, ItNeitherTruncatesCreatesNorConnects) {
  TempDir dir;
  const auto kept = dir.write("kept.ndjson", "precious\n");
  // A TCP listener standing in for Redis and Kafka: validate must not connect to it.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  dir.write("cfg.yaml",
            "crosscut: 1\n"
            "logging: {sinks: [{type: rotating_file, path: '" +
                (dir.path() / "new.log").string() +
                "'}]}\n"
                "sinks:\n"
                "  kept: {type: file, path: '" +
                kept.string() +
                "', append: false}\n"
                "  fresh: {type: file, path: '" +
                (dir.path() / "fresh.ndjson").string() + "', spool: {path: '" +
                (dir.path() / "spool").string() +
                "'}}\n"
                "  kafka: {type: kafka, brokers: '127.0.0.1:" +
                port +
                "'}\n"
                "errors: {sink: kept}\n"
                "breakers: {backend: {type: redis, url: 'redis://127.0.0.1:" +
                port + "'}}\n");
  const auto r = run_crosscut({"validate", "-c", (dir.path() / "cfg.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(read_file(kept), "precious\n");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "new.log"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "fresh.ndjson"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "spool"));
  pollfd p{listener, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "validate connected to a server";

  // `breaker status` needs the backend, but opens no sink either.
  dir.write("memory.yaml", "crosscut: 1\nsinks: {kept: {type: file, path: '" + kept.string() +
                               "', append: false}}\nerrors: {sink: kept}\n");
  const auto status =
      run_crosscut({"breaker", "status", "-c", (dir.path() / "memory.yaml").string(), "a/b/c"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(read_file(kept), "precious\n");

  // Asked to, it contacts them and reports each one.
  const auto checked =
      run_crosscut({"validate", "--check-connections", "-c", (dir.path() / "cfg.yaml").string()});
  EXPECT_NE(checked.out.find("breakers.backend (redis) 127.0.0.1:" + port), std::string::npos)
      << checked.out;
  EXPECT_NE(checked.out.find("sinks.kafka (kafka) 127.0.0.1:" + port), std::string::npos)
      << checked.out;
  EXPECT_EQ(::poll(&p, 1, 0), 1) << "--check-connections did not connect";
  ::close(listener);
}

TEST(ValidateHasNoSideEffects, CheckConnectionsSaysWhichServerIsDown) {
  TempDir dir;
  // A port nobody listens on: bound, then closed.
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(s);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  dir.write("cfg.yaml", "crosscut: 1\nbreakers: {backend: {type: redis, url: 'redis://127.0.0.1:" +
                            port + "'}}\n");
  const auto r =
      run_crosscut({"validate", "--check-connections", "-c", (dir.path() / "cfg.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("UNREACHABLE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("127.0.0.1:" + port), std::string::npos) << r.out;
}

// Against a real Kafka protocol peer (librdkafka's mock cluster), the sink's brokers answer
// with their metadata.
TEST(ValidateHasNoSideEffects, CheckConnectionsReachesAKafkaCluster) {
  crosscut::testing::KafkaMockCluster cluster(2);
  TempDir dir;
  dir.write("cfg.yaml", "crosscut: 1\nsinks: {main: {type: kafka, brokers: '" +
                            cluster.bootstrap_servers() + "'}}\nerrors: {sink: main}\n");
  const auto r =
      run_crosscut({"validate", "--check-connections", "-c", (dir.path() / "cfg.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("reachable    sinks.main (kafka) " + cluster.bootstrap_servers() +
                       ": cluster metadata (2 brokers)"),
            std::string::npos)
      << r.out;
  // With every broker's listener closed, the same check says so and fails.
  cluster.set_down();
  const auto down =
      run_crosscut({"validate", "--check-connections", "-c", (dir.path() / "cfg.yaml").string()});
  EXPECT_EQ(down.exit_code, 1) << down.out << down.err;
  EXPECT_NE(down.out.find("UNREACHABLE  sinks.main (kafka) " + cluster.bootstrap_servers()),
            std::string::npos)
      << down.out;
}

// What run refuses at configuration time, validate refuses with the same line and exit 2;
// run prints that line and nothing else.
class ValidateAndRunAgree : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidateAndRunAgree, OnTheSameLineAndExitCode) {
  TempDir dir;
  const auto cfg =
      dir.write("cfg.yaml", "crosscut: 1\nlogging: {sinks: [{type: console}]}\n" + GetParam());
  const auto v = run_crosscut({"validate", "-c", cfg.string()});
  const auto r = run_crosscut({"run", "-c", cfg.string()});
  EXPECT_EQ(v.exit_code, 2) << v.out << v.err;
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(one_line_count(v.err), 1) << v.err;
  EXPECT_EQ(v.err, r.err);
  EXPECT_EQ(r.err.rfind("crosscut: " + cfg.string() + ":", 0), 0u) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ValidateAndRunAgree,
    ::testing::Values("inputs: [{type: unix, path: /tmp/x.sock, mode: abc}]\n",
                      "inputs: [{type: unix, path: /tmp/x.sock, mode: '999'}]\n",
                      "inputs: [{type: unix, path: /tmp/x.sock, mode: '-1'}]\n",
                      "inputs: [{type: unix, path: /tmp/x.sock, mode: '0o660'}]\n",
                      "agent: {health_interval: 1ns}\n", "metrics: {flush_interval: 1ns}\n",
                      "sinks: {f: {type: file, path: ''}}\n",
                      "errors: {rules: [{name: r, match: {message: '(unclosed'}}]}\n"));

TEST(HonestExitCodes, RunFailsWhenItsOnlyInputCannotStart) {
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "adir");
  for (const std::string& path :
       std::vector<std::string>{"/nonexistent/day.ndjson", (dir.path() / "adir").string()}) {
    const auto cfg =
        dir.write("cfg.yaml", counting_config("inputs: [{type: file, path: '" + path + "'}]\n"));
    const auto r = run_crosscut({"run", "-c", cfg.string()});
    EXPECT_EQ(r.exit_code, 1) << path << ": " << r.err;
    EXPECT_NE(r.err.find("crosscut: input inputs[0] (file) failed: "), std::string::npos) << r.err;
  }
}

TEST(ConfigurationFile, AFifoIsRefusedAtOnce) {
  TempDir dir;
  const auto fifo = dir.path() / "cfg.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto r = shell("timeout 20 \"$BIN\" validate -c cfg.fifo; echo \"exit $?\"", dir.path());
  EXPECT_NE(r.out.find("exit 2"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("cfg.fifo: is a FIFO, not a configuration file"), std::string::npos)
      << r.err;
}

TEST(ConfigurationFile, WhatIsNotAConfigurationIsNotQuoted) {
  TempDir dir;
  const auto shadow =
      dir.write("shadow", "root:$6$saltsecret$hashsecret:19000:0:99999:7:::\ndaemon:*:19000::\n");
  const auto r = run_crosscut({"validate", "-c", shadow.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.find("secret"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not a crosscut configuration"), std::string::npos) << r.err;
  // A configuration with a misspelt section is still one: its key is named.
  const auto typo = dir.write("typo.yaml", "crosscut: 1\nloging: {level: info}\n");
  const auto t = run_crosscut({"validate", "-c", typo.string()});
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_NE(t.err.find("'loging'"), std::string::npos) << t.err;
}

TEST(ConfigurationFile, RunningOutOfDescriptorsIsNotAConfigurationError) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(__clang__)
  // A sanitizer runtime needs descriptors of its own (UBSan's vptr check reads the process's
  // modules), and this case takes every one away: only an uninstrumented build can run it.
  GTEST_SKIP() << "sanitizer builds need free descriptors";
#endif
  TempDir dir;
  std::string cfg = "crosscut: 1\nsinks:\n";
  for (int i = 0; i < 64; ++i)
    cfg += "  f" + std::to_string(i) + ": {type: file, path: out" + std::to_string(i) + "}\n";
  dir.write("cfg.yaml", cfg);
  const auto r = shell("ulimit -n 40 && \"$BIN\" run -c cfg.yaml; echo \"exit $?\"", dir.path());
  EXPECT_NE(r.out.find("exit 1"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("Too many open files"), std::string::npos) << r.err;
}

TEST(CommandLine, AnUnknownCommandIsNamed) {
  const auto r = run_crosscut({"bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'bogus'"), std::string::npos) << r.err;
  EXPECT_EQ(one_line_count(r.err), 1) << r.err;
}
