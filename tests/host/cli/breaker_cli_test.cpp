// `crosscut breaker simulate|status|reset|open` against the memory backend, end to end.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <signal.h>

#include <sstream>

#include "crosscut/sdk/abi.hpp"
#include "support/process.hpp"

using crosscut::testing::run_crosscut;

namespace {

const std::string kConfig = std::string(CROSSCUT_TEST_DATA_DIR) + "/config/breaker-cli.yaml";
const std::string kQuickstart = std::string(CROSSCUT_TEST_SOURCE_DIR) + "/configs/quickstart.yaml";

std::vector<rapidjson::Document> parse_lines(const std::string& out) {
  std::vector<rapidjson::Document> docs;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    docs.emplace_back();
    docs.back().Parse(line.c_str());
    EXPECT_FALSE(docs.back().HasParseError()) << line;
  }
  return docs;
}

// Every printed line must be a state the breaker can be in: right after a transition, the
// reported state is the one it went to.
void expect_consistent(const std::vector<rapidjson::Document>& lines) {
  for (const auto& l : lines) {
    if (!l.IsObject() || !l.HasMember("transition") || !l["transition"].IsObject()) continue;
    EXPECT_STREQ(l["state"].GetString(), l["transition"]["to"].GetString())
        << "t_ms " << l["t_ms"].GetInt64();
  }
}

}  // namespace

TEST(BreakerSimulate, PrintsTheDocumentedExampleExactly) {
  auto r = run_crosscut({"breaker", "simulate", "-c", kConfig, "--key", "some/other/key"},
                        "{\"t_ms\":0,\"op\":\"acquire\"}\n{\"t_ms\":5,\"op\":\"failure\"}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "{\"t_ms\":0,\"op\":\"acquire\",\"allowed\":true,\"state\":\"CLOSED\",\"transition\":null,"
      "\"failures\":0}\n"
      "{\"t_ms\":5,\"op\":\"failure\",\"state\":\"CLOSED\",\"transition\":null,\"failures\":1}\n");
}

TEST(BreakerSimulate, OpensHalfOpensAndClosesAccordingToTheConfiguredPolicy) {
  // breaker-cli.yaml: threshold 3 for upbit/korea/ticker (override), timeout 60s, 2 successes.
  std::string trace =
      "{\"t_ms\":0,\"op\":\"failure\"}\n{\"t_ms\":1,\"op\":\"failure\"}\n{\"t_ms\":2,\"op\":"
      "\"failure\"}\n"
      "{\"t_ms\":10,\"op\":\"acquire\"}\n{\"t_ms\":60002,\"op\":\"state\"}\n{\"t_ms\":60003,\"op\":"
      "\"acquire\"}\n"
      "{\"t_ms\":60004,\"op\":\"success\"}\n{\"t_ms\":60005,\"op\":\"success\"}\n"
      "{\"t_ms\":60006,\"op\":\"failure\",\"key\":\"x/y/z\"}\n";
  auto r =
      run_crosscut({"breaker", "simulate", "-c", kConfig, "--key", "upbit/korea/ticker"}, trace);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_STREQ(lines[2]["state"].GetString(), "OPEN");
  EXPECT_STREQ(lines[2]["transition"]["from"].GetString(), "CLOSED");
  EXPECT_FALSE(lines[3]["allowed"].GetBool());
  EXPECT_STREQ(lines[4]["state"].GetString(), "HALF_OPEN");
  EXPECT_TRUE(lines[4]["transition"].IsNull());
  EXPECT_TRUE(lines[5]["allowed"].GetBool());
  EXPECT_STREQ(lines[5]["transition"]["to"].GetString(), "HALF_OPEN");
  EXPECT_STREQ(lines[7]["transition"]["to"].GetString(), "CLOSED");
  EXPECT_STREQ(lines[8]["key"].GetString(), "x/y/z");
  EXPECT_STREQ(lines[8]["state"].GetString(), "CLOSED");
}

TEST(BreakerSimulate, OpenUntilHoldsTheBreakerOpenPastItsTimeoutThenHalfOpens) {
  // breaker-cli.yaml: timeout 60s.
  const std::string trace =
      "{\"t_ms\":0,\"op\":\"open_until\",\"until_ms\":120000}\n"
      "{\"t_ms\":60001,\"op\":\"acquire\"}\n"
      "{\"t_ms\":60002,\"op\":\"open_until\",\"for_ms\":70000}\n"
      "{\"t_ms\":120000,\"op\":\"acquire\"}\n"
      "{\"t_ms\":130002,\"op\":\"acquire\"}\n";
  auto r = run_crosscut({"breaker", "simulate", "-c", kConfig, "--key", "a/b/c"}, trace);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_STREQ(lines[0]["transition"]["to"].GetString(), "OPEN");
  EXPECT_FALSE(lines[1]["allowed"].GetBool()) << "past the timeout, before the until time";
  EXPECT_TRUE(lines[2]["transition"].IsNull()) << "extended, not reopened";
  EXPECT_FALSE(lines[3]["allowed"].GetBool()) << "the later time (130002) holds";
  EXPECT_TRUE(lines[4]["allowed"].GetBool());
  EXPECT_STREQ(lines[4]["transition"]["to"].GetString(), "HALF_OPEN");
}

TEST(BreakerSimulate, ShowsEachReopeningLastLongerUntilTheBreakerCloses) {
  crosscut::testing::TempDir dir;
  const auto config = dir.write(
      "backoff.yaml",
      "breakers:\n  defaults: {failure_threshold: 1, success_threshold: 1, timeout: 10s,\n"
      "             half_open_max_calls: 1, backoff_multiplier: 2, max_timeout: 30s}\n");
  // Open at 0 (10s); each trial fails: 20s, then 30s (capped); a success closes; 10s again.
  const std::string trace =
      "{\"t_ms\":0,\"op\":\"failure\"}\n"
      "{\"t_ms\":10000,\"op\":\"acquire\"}\n"
      "{\"t_ms\":10001,\"op\":\"failure\"}\n"
      "{\"t_ms\":30001,\"op\":\"acquire\"}\n"
      "{\"t_ms\":30002,\"op\":\"failure\"}\n"
      "{\"t_ms\":60002,\"op\":\"acquire\"}\n"
      "{\"t_ms\":60003,\"op\":\"success\"}\n"
      "{\"t_ms\":60004,\"op\":\"failure\"}\n";
  auto r = run_crosscut({"breaker", "simulate", "-c", config.string(), "--key", "a/b/c"}, trace);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 8u);
  expect_consistent(lines);
  EXPECT_EQ(lines[0]["open_until_ms"].GetInt64(), 10000);
  EXPECT_EQ(lines[2]["open_until_ms"].GetInt64(), 30001);
  EXPECT_EQ(lines[4]["open_until_ms"].GetInt64(), 60002);
  EXPECT_TRUE(lines[5]["allowed"].GetBool());
  EXPECT_FALSE(lines[5].HasMember("open_until_ms")) << "HALF_OPEN has no end to show";
  EXPECT_STREQ(lines[6]["state"].GetString(), "CLOSED");
  EXPECT_EQ(lines[7]["open_until_ms"].GetInt64(), 70004) << "closing started again from 10s";
}

TEST(BreakerSimulate, BadLinesAreOneLineErrorsWithTheLineNumber) {
  using std::string_view_literals::operator""sv;
  struct Case {
    std::string trace;
    std::string expect;
  };
  std::vector<Case> cases{
      {"{\"t_ms\":0,\"op\":\"acquire\"}\nnot json\n", "stdin:2: not a JSON object"},
      {"{\"op\":\"acquire\"}\n", "stdin:1: 't_ms' must be an integer"},
      {"{\"t_ms\":\"5\",\"op\":\"acquire\"}\n", "stdin:1: 't_ms' must be an integer"},
      {"{\"t_ms\":5,\"op\":\"explode\"}\n", "stdin:1: unknown op 'explode'"},
      {"{\"t_ms\":5,\"op\":\"state\"}\n{\"t_ms\":4,\"op\":\"state\"}\n",
       "stdin:2: time goes backwards"},
      {"{\"t_ms\":5,\"op\":\"state\",\"key\":7}\n", "stdin:1: 'key' must be a string"},
      {std::string("{\"t_ms\":5,\"op\":\"st\0te\"}\n"sv), "stdin:1:"},
      {"{\"t_ms\":5,\"op\":\"open_until\"}\n", "stdin:1: open_until needs 'until_ms'"},
      {"{\"t_ms\":5,\"op\":\"failure\",\"instance\":7}\n",
       "stdin:1: 'instance' must be a string of at most 256 bytes"},
      {"{\"t_ms\":5,\"op\":\"open_until\",\"until_ms\":\"9\"}\n",
       "stdin:1: 'until_ms' must be an integer time"},
      {"{\"t_ms\":5,\"op\":\"open_until\",\"for_ms\":-1}\n",
       "stdin:1: 'for_ms' must be an integer"},
      {"{\"t_ms\":5,\"op\":\"success\",\"duration_ms\":-3}\n",
       "stdin:1: 'duration_ms' must be an integer from 0"},
      {"{\"t_ms\":5,\"op\":\"acquire\",\"duration_ms\":3}\n",
       "stdin:1: 'duration_ms' is for success and failure only"},
  };
  for (const auto& c : cases) {
    auto r = run_crosscut({"breaker", "simulate", "-c", kConfig, "--key", "a/b/c"}, c.trace);
    EXPECT_EQ(r.exit_code, 2) << c.trace;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // Times may go backwards across keys, only not within one.
  auto ok = run_crosscut(
      {"breaker", "simulate", "-c", kConfig, "--key", "a/b/c"},
      "{\"t_ms\":5,\"op\":\"state\"}\n{\"t_ms\":1,\"op\":\"state\",\"key\":\"d/e/f\"}\n");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(BreakerSimulate, RefusesTimesWhereTheBreakerArithmeticWouldOverflow) {
  // Opening at the end of int64 used to overflow opened_at + timeout: the opening line then
  // reported HALF_OPEN along with its CLOSED -> OPEN transition (or UBSan stopped the run).
  std::string trace;
  for (int i = 0; i < 5; ++i) trace += "{\"t_ms\":9223372036854775800,\"op\":\"failure\"}\n";
  trace += "{\"t_ms\":9223372036854775807,\"op\":\"acquire\"}\n";
  auto r = run_crosscut({"breaker", "simulate", "-c", kConfig, "--key", "a/b/c"}, trace);
  expect_consistent(parse_lines(r.out));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("stdin:1: 't_ms' 9223372036854775800 is outside the accepted range "
                       "0..4102444799999 (1970-01-01T00:00:00.000Z to 2099-12-31T23:59:59.999Z)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  for (const char* t : {"-1", "4102444800000", "-9223372036854775808"}) {
    auto bad = run_crosscut(
        {"breaker", "simulate", "-c", kConfig, "--key", "a/b/c"},
        "{\"t_ms\":0,\"op\":\"state\"}\n{\"t_ms\":" + std::string(t) + ",\"op\":\"failure\"}\n");
    EXPECT_EQ(bad.exit_code, 2) << t;
    EXPECT_NE(bad.err.find("stdin:2: 't_ms' " + std::string(t) + " is outside the accepted range"),
              std::string::npos)
        << bad.err;
  }
}

TEST(BreakerSimulate, TheLargestAcceptedTimesBehaveLikeAnyOther) {
  // Opens 60 s before the largest accepted time; at that time the timeout has elapsed.
  std::string trace;
  for (int i = 0; i < 5; ++i) trace += "{\"t_ms\":4102444739999,\"op\":\"failure\"}\n";
  trace +=
      "{\"t_ms\":4102444799998,\"op\":\"state\"}\n{\"t_ms\":4102444799999,\"op\":\"state\"}\n"
      "{\"t_ms\":4102444799999,\"op\":\"acquire\"}\n";
  auto r = run_crosscut({"breaker", "simulate", "-c", kConfig, "--key", "a/b/c"}, trace);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = parse_lines(r.out);
  ASSERT_EQ(lines.size(), 8u);
  expect_consistent(lines);
  EXPECT_STREQ(lines[4]["transition"]["to"].GetString(), "OPEN");
  EXPECT_STREQ(lines[5]["state"].GetString(), "OPEN");
  EXPECT_STREQ(lines[6]["state"].GetString(), "HALF_OPEN");
  EXPECT_TRUE(lines[7]["allowed"].GetBool());
  EXPECT_STREQ(lines[7]["transition"]["to"].GetString(), "HALF_OPEN");
}

TEST(BreakerCommands, StatusResetAndOpenOnTheMemoryBackend) {
  // A memory backend lives in one process: each command sees a fresh breaker.
  auto open = run_crosscut({"breaker", "open", "-c", kConfig, "a/b/c"});
  EXPECT_EQ(open.exit_code, 0) << open.err;
  EXPECT_EQ(open.out, "a/b/c: OPEN\n");
  auto reset = run_crosscut({"breaker", "reset", "-c", kConfig, "a/b/c"});
  EXPECT_EQ(reset.out, "a/b/c: CLOSED\n");
  auto status = run_crosscut({"breaker", "status", "-c", kConfig, "a/b/c", "d/e/f"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("a/b/c"), std::string::npos);
  EXPECT_NE(status.out.find("CLOSED"), std::string::npos);
  auto missing_key = run_crosscut({"breaker", "reset", "-c", kConfig});
  EXPECT_EQ(missing_key.exit_code, 2);
  auto open_for = run_crosscut({"breaker", "open", "-c", kConfig, "a/b/c", "--for", "30s"});
  EXPECT_EQ(open_for.exit_code, 0) << open_for.err;
  EXPECT_EQ(open_for.out, "a/b/c: OPEN\n");
  for (const char* bad : {"soon", "0s", "-5s"}) {
    auto r = run_crosscut({"breaker", "open", "-c", kConfig, "a/b/c", "--for", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("--for: "), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(VersionCommand, PrintsVersionAndAbis) {
  auto r = run_crosscut({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("crosscut 1.0.0 (SDK ABI " + std::to_string(CROSSCUT_SDK_ABI_VERSION) +
                       ", compiler ABI "),
            std::string::npos)
      << r.out;
  auto help = run_crosscut({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("breaker"), std::string::npos);
}

TEST(RunCommand, StopsCleanlyOnSigtermAndSigint) {
  for (int sig : {SIGTERM, SIGINT}) {
    auto p = crosscut::testing::start_crosscut(
        {"run", "-c", kConfig});  // no inputs: runs until a signal
    ASSERT_TRUE(p->wait_for_stderr("crosscut agent started", std::chrono::seconds(30)))
        << p->wait().err;
    p->signal(sig);
    auto r = p->wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("stopping"), std::string::npos) << r.err;
  }
}

TEST(RunCommand, ConfigurationErrorsExitTwoBeforeStarting) {
  crosscut::testing::TempDir dir;
  auto file = dir.write("bad.yaml", "breakers: {defaults: {timeout: 0s}}\n");
  auto r = run_crosscut({"run", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:1:32: breakers.defaults.timeout: must be > 0"), std::string::npos)
      << r.err;
}
