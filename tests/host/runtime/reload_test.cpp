// Runtime::reload(): all or nothing, state carried over, requests merged, /ready while it runs.
// Each test rewrites the configuration file and reloads it in process; the admin endpoint is
// reached over a Unix socket with a real HTTP client.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/socket.h>

#include <fstream>
#include <sstream>

#include "crosscut/runtime.hpp"
#include "support/process.hpp"

using crosscut::Readiness;
using crosscut::Runtime;
using crosscut::RuntimeOptions;
using crosscut::sdk::BreakerState;

namespace {

RuntimeOptions plugins_only() {
  RuntimeOptions o;
  o.plugin_paths = {CROSSCUT_TEST_PLUGIN_DIR};
  return o;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A configuration with a file sink for errors and metrics, and `extra` appended.
std::string config(const std::filesystem::path& out, const std::string& extra) {
  return "sinks: {out: {type: file, path: \"" + out.string() +
         "\"}}\nerrors: {sink: out}\nmetrics: {sink: out}\n" + extra;
}

httplib::Client unix_client(const std::string& socket) {
  httplib::Client c(socket);
  c.set_address_family(AF_UNIX);
  return c;
}

}  // namespace

TEST(Reload, AGoodFileTakesEffectAndABrokenOneLeavesTheRunningConfiguration) {
  crosscut::testing::TempDir dir;
  const auto out = dir.path() / "records.ndjson";
  const auto file = dir.write("crosscut.yaml", config(out, ""));
  auto rt = Runtime::from_file(file.string(), plugins_only());
  rt->errors().dispatch(std::runtime_error("boom"), "ws_connection", {"upbit", "korea", "ticker"});
  EXPECT_EQ(rt->errors().stats().published, 1u);

  // The new file: errors of this kind are no longer published.
  dir.write("crosscut.yaml", "sinks: {out: {type: file, path: \"" + out.string() +
                                 "\"}}\nmetrics: {sink: out}\nerrors:\n  sink: out\n  rules:\n"
                                 "    - name: quiet\n      match: {kind: ws_connection}\n"
                                 "      then: {publish: false}\n");
  const crosscut::ReloadOutcome good = rt->reload();
  ASSERT_TRUE(good.ok) << good.message;
  rt->errors().dispatch(std::runtime_error("boom"), "ws_connection", {"upbit", "korea", "ticker"});
  EXPECT_EQ(rt->errors().stats().published, 1u);
  EXPECT_EQ(rt->errors().stats().not_published, 1u);

  // A broken file: refused with where and what, and the rule above still applies.
  dir.write("crosscut.yaml", "sinks: {out: {type: file, path: \"" + out.string() +
                                 "\"}}\nerrors: {sink: out, topicc: x}\n");
  const crosscut::ReloadOutcome bad = rt->reload();
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.message.find(file.string() + ":2:"), std::string::npos) << bad.message;
  EXPECT_NE(bad.message.find("topicc"), std::string::npos) << bad.message;
  rt->errors().dispatch(std::runtime_error("boom"), "ws_connection", {"upbit", "korea", "ticker"});
  EXPECT_EQ(rt->errors().stats().not_published, 2u);
  EXPECT_EQ(rt->reload_stats().succeeded, 1u);
  EXPECT_EQ(rt->reload_stats().failed, 1u);
  const std::string metrics = rt->prometheus_metrics();
  EXPECT_NE(metrics.find("crosscut_reloads_total{result=\"failure\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("crosscut_reloads_total{result=\"success\"} 1\n"), std::string::npos);
  EXPECT_TRUE(rt->shutdown());
}

TEST(Reload, ASectionThatChangesOnlyAtARestartIsRefusedByName) {
  crosscut::testing::TempDir dir;
  const auto out = dir.path() / "records.ndjson";
  const auto file = dir.write("crosscut.yaml", config(out, ""));
  auto rt = Runtime::from_file(file.string(), plugins_only());
  dir.write("crosscut.yaml", config(out, "bus: {queue_size: 128}\n"));
  const crosscut::ReloadOutcome r = rt->reload();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("bus: changes only at a restart"), std::string::npos) << r.message;
}

TEST(Reload, CountsCarryOverAndAReplacedSinkDeliversWhatItHeld) {
  crosscut::testing::TempDir dir;
  const auto first = dir.path() / "first.ndjson";
  const auto second = dir.path() / "second.ndjson";
  const auto file = dir.write("crosscut.yaml", config(first, ""));
  auto rt = Runtime::from_file(file.string(), plugins_only());
  auto& counter = rt->counter({"upbit", "korea", "ticker"});
  for (int i = 0; i < 700; ++i) counter.increment("BTC");
  // In flight to the sink the reload replaces: delivered before it closes.
  rt->errors().dispatch(std::runtime_error("before"), "ws_connection",
                        {"upbit", "korea", "ticker"});
  // The sink changes (another file): its records go, the counts stay.
  dir.write("crosscut.yaml", config(second, ""));
  ASSERT_TRUE(rt->reload().ok);
  for (int i = 0; i < 300; ++i) counter.increment("BTC");
  rt->errors().dispatch(std::runtime_error("boom"), "ws_connection", {"upbit", "korea", "ticker"});
  ASSERT_TRUE(rt->shutdown());
  EXPECT_EQ(rt->metrics_totals().published_increments, 1000u);
  // The counts of the minute went out once, through the sink configured at the end.
  EXPECT_EQ(count_of(read_file(second), "\"total\":1000"), 1u) << read_file(second);
  EXPECT_EQ(count_of(read_file(first), "ws.metrics"), 0u);
  EXPECT_EQ(count_of(read_file(first), "before"), 1u) << read_file(first);
  EXPECT_EQ(count_of(read_file(second), "ws.error"), 1u);
  EXPECT_EQ(count_of(read_file(second), "before"), 0u);
  // The delivery figures of "out" cover both files' sinks.
  const crosscut::DeliveryReport report = rt->delivery_report();
  ASSERT_EQ(report.sinks.size(), 1u);
  EXPECT_EQ(report.sinks[0].accepted, 3u);  // two error reports and the minute batch
  EXPECT_EQ(report.sinks[0].accepted, report.sinks[0].delivered);
  EXPECT_EQ(report.lost(), 0u);
}

TEST(Reload, AnOpenBreakerStaysOpenAndHandlesTakeTheNewPolicy) {
  crosscut::testing::TempDir dir;
  const auto out = dir.path() / "records.ndjson";
  const auto file = dir.write("crosscut.yaml", config(out, ""));
  auto rt = Runtime::from_file(file.string(), plugins_only());
  auto open = rt->breaker("upbit/korea/ticker");
  auto held = rt->breaker("bithumb/korea/ticker");  // made before the reload
  open.force_open();
  dir.write(
      "crosscut.yaml",
      config(out, "breakers:\n  overrides:\n    bithumb/korea/ticker: {failure_threshold: 1}\n"));
  ASSERT_TRUE(rt->reload().ok);
  EXPECT_EQ(open.state(), BreakerState::open);
  EXPECT_EQ(rt->breaker("upbit/korea/ticker").state(), BreakerState::open);
  held.record_failure();  // the new override: one failure opens it
  EXPECT_EQ(held.state(), BreakerState::open);
  EXPECT_EQ(rt->breaker_transitions().to_open, 2u);

  // Another backend: breakers start fresh.
  dir.write("crosscut.yaml", config(out, "breakers:\n  backend: {type: memory, max_keys: 5000}\n"));
  ASSERT_TRUE(rt->reload().ok);
  EXPECT_EQ(open.state(), BreakerState::closed);
}

TEST(Reload, RequestsMadeDuringAReloadAreMergedIntoOneMore) {
  crosscut::testing::TempDir dir;
  const auto out = dir.path() / "records.ndjson";
  const auto file = dir.write("crosscut.yaml", config(out, ""));
  auto rt = Runtime::from_file(file.string(), plugins_only());
  for (int i = 0; i < 20; ++i) rt->request_reload();
  ASSERT_TRUE(rt->reload().ok);  // served by a reload that began after every request above
  const std::uint64_t done = rt->reload_stats().succeeded;
  EXPECT_GE(done, 1u);
  EXPECT_LE(done, 10u) << "20 requests in a row became " << done << " reloads";
  EXPECT_EQ(rt->reload_stats().failed, 0u);
}

TEST(Reload, ReadyAnswers503WhileAReloadRuns) {
  crosscut::testing::TempDir dir;
  const auto out = dir.path() / "records.ndjson";
  const std::string socket = (dir.path() / "admin.sock").string();
  const auto file =
      dir.write("crosscut.yaml", config(out, "admin: {listen: \"" + socket + "\"}\n"));
  auto rt = Runtime::from_file(file.string(), plugins_only());
  auto client = unix_client(socket);
  auto before = client.Get("/ready");
  ASSERT_TRUE(before) << httplib::to_string(before.error());
  EXPECT_EQ(before->status, 200);

  // Asked from inside the reload (the listener runs on the reloading thread).
  std::vector<std::pair<int, std::string>> during;
  rt->set_readiness_listener([&](Readiness r) {
    if (r != Readiness::reloading) return;
    auto c = unix_client(socket);
    if (auto res = c.Get("/ready")) during.emplace_back(res->status, res->body);
  });
  auto reload = client.Post("/reload");
  ASSERT_TRUE(reload);
  EXPECT_EQ(reload->status, 200) << reload->body;
  ASSERT_EQ(during.size(), 1u);
  EXPECT_EQ(during[0].first, 503);
  EXPECT_NE(during[0].second.find("reloading"), std::string::npos);
  EXPECT_EQ(client.Get("/ready")->status, 200);
  EXPECT_EQ(client.Get("/health")->status, 200);
  rt->set_readiness_listener({});

  // A broken file through the endpoint: 500 and the reason.
  dir.write("crosscut.yaml", "admin: {listen: \"" + socket + "\"}\nerrors: {sink: nowhere}\n");
  auto broken = client.Post("/reload");
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->status, 500);
  EXPECT_NE(broken->body.find("unknown sink 'nowhere'"), std::string::npos) << broken->body;
}

TEST(AdminMetrics, TheScrapeCountsWhatWasSentAndPromtoolAcceptsIt) {
  crosscut::testing::TempDir dir;
  const auto out = dir.path() / "records.ndjson";
  const std::string socket = (dir.path() / "admin.sock").string();
  const auto file =
      dir.write("crosscut.yaml", config(out, "admin: {listen: \"" + socket + "\"}\n"));
  auto rt = Runtime::from_file(file.string(), plugins_only());
  for (int i = 0; i < 3; ++i)
    rt->errors().dispatch(std::runtime_error("boom"), "ws_connection",
                          {"upbit", "korea", "ticker"});
  rt->errors().dispatch(std::runtime_error("late"), "rest_timeout", {"upbit", "korea", "ticker"});
  rt->breaker("upbit/korea/ticker").force_open();
  auto& counter = rt->counter({"upbit", "korea", "ticker"});
  for (int i = 0; i < 5; ++i) counter.increment("BTC");
  auto scrape = unix_client(socket).Get("/metrics");
  ASSERT_TRUE(scrape);
  EXPECT_EQ(scrape->status, 200);
  EXPECT_EQ(scrape->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& m = scrape->body;
  EXPECT_NE(m.find("crosscut_errors_dispatched_total{kind=\"ws_connection\"} 3\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("crosscut_errors_dispatched_total{kind=\"rest_timeout\"} 1\n"),
            std::string::npos);
  // Published: 4 error reports, all to the one sink.
  EXPECT_NE(m.find("crosscut_sink_records_total{sink=\"out\",outcome=\"published\"} 4\n"),
            std::string::npos);
  EXPECT_NE(m.find("crosscut_breaker_transitions_total{to=\"OPEN\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("crosscut_breakers{state=\"OPEN\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("crosscut_build_info{version=\""), std::string::npos);
  EXPECT_NE(m.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(m.find("process_open_fds "), std::string::npos);

  // The same text through promtool's linter: no problem at all.
  const auto scraped = dir.write("metrics.txt", m);
  const auto lint = crosscut::testing::run_process(
      {"/bin/sh", "-c", "promtool check metrics < '" + scraped.string() + "'"});
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
  EXPECT_EQ(lint.out + lint.err, "") << "promtool: " << lint.out << lint.err;

  // After the counts are published, the increments agree with the runtime's own totals.
  ASSERT_TRUE(rt->shutdown());
  EXPECT_EQ(rt->metrics_totals().published_increments, 5u);
}

TEST(AdminEndpoint, AnAddressThatIsNotOneIsRefusedWhereItIsWritten) {
  try {
    Runtime::from_string("admin:\n  listen: \"9464\"\n", "bad.yaml", plugins_only());
    FAIL() << "accepted";
  } catch (const crosscut::ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml:2:11: admin.listen: expected \"host:port\""),
              std::string::npos)
        << e.what();
  }
}

TEST(AdminEndpoint, AnAddressInUseIsAStartupErrorNamingIt) {
  crosscut::testing::TempDir dir;
  auto first = Runtime::from_string("admin: {listen: \"127.0.0.1:0\"}\n", "a.yaml", plugins_only());
  const std::string taken = first->admin_address();
  ASSERT_NE(taken.find("127.0.0.1:"), std::string::npos);
  EXPECT_NE(taken, "127.0.0.1:0");
  try {
    Runtime::from_string("admin: {listen: \"" + taken + "\"}\n", "b.yaml", plugins_only());
    FAIL() << "two endpoints on one port";
  } catch (const crosscut::StartupError& e) {
    EXPECT_NE(std::string(e.what()).find("admin.listen '" + taken + "': cannot listen"),
              std::string::npos)
        << e.what();
  }
  httplib::Client c("127.0.0.1", std::stoi(taken.substr(taken.rfind(':') + 1)));
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
}
