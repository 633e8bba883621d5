// The local_inputs descriptor: its three factories and the option errors they report.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <stop_token>
#include <string>

#include "config/option_validator.hpp"
#include "crosscut/sdk/sdk.hpp"
#include "recording_sink.hpp"
#include "socket_client.hpp"
#include "support/component_cast.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

extern "C" const crosscut_plugin_info* crosscut_plugin_entry();

namespace {

using crosscut::local_inputs::testing::RecordingSink;
using crosscut::sdk::ComponentFactory;
using crosscut::sdk::ConfigError;
using crosscut::sdk::ConfigNode;
using crosscut::sdk::ConfigView;
using crosscut::sdk::Input;
using crosscut::testing::TempDir;
using crosscut::testing::TestHost;

const crosscut::sdk::PluginDescriptor& descriptor() {
  return *static_cast<const crosscut::sdk::PluginDescriptor*>(crosscut_plugin_entry()->descriptor);
}

const ComponentFactory& factory(const std::string& type) {
  for (const auto& f : descriptor().components)
    if (f.type == type) return f;
  throw std::runtime_error("no component " + type);
}

ConfigNode options(const std::map<std::string, std::string>& values) {
  ConfigNode n;
  n.kind = ConfigNode::Kind::map;
  n.mark = {3, 5};
  for (const auto& [k, v] : values) {
    ConfigNode s;
    s.kind = ConfigNode::Kind::scalar;
    s.scalar = v;
    s.mark = {4, 7};
    n.entries.emplace_back(k, s);
  }
  return n;
}

// Checks `node` against the factory's schema (filling in defaults), as the host does, then
// creates the input.
std::unique_ptr<Input> create(const std::string& type, ConfigNode node, TestHost& host) {
  auto file = std::make_shared<const std::string>("agent.yaml");
  crosscut::config::validate_options(node, factory(type).schema, {file, "inputs[0]"});
  auto c = factory(type).create(ConfigView(&node, file, "inputs[0]"), host);
  return crosscut::testing::component_as<Input>(std::move(c));
}

// Checks `node` against the schema, then runs the factory's check (what `crosscut validate`
// does): "" when it passes, else the ConfigError's message.
std::string check_error(const std::string& type, const std::map<std::string, std::string>& o) {
  TestHost host;
  auto node = options(o);
  auto file = std::make_shared<const std::string>("agent.yaml");
  try {
    crosscut::config::validate_options(node, factory(type).schema, {file, "inputs[0]"});
    if (!factory(type).check) return "(no check)";
    factory(type).check(ConfigView(&node, file, "inputs[0]"), host);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string config_error(const std::string& type, const std::map<std::string, std::string>& o) {
  TestHost host;
  const auto node = options(o);
  try {
    create(type, node, host);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(LocalInputsPlugin, DescribesItsThreeInputs) {
  const auto& d = descriptor();
  EXPECT_EQ(d.name, "local_inputs");
  ASSERT_EQ(d.components.size(), 3u);
  for (const auto& f : d.components) EXPECT_EQ(f.kind, crosscut::sdk::ComponentKind::input);
  auto has = [&](const std::string& type, const std::string& key) {
    for (const auto& o : factory(type).schema)
      if (o.key == key) return true;
    return false;
  };
  EXPECT_TRUE(has("stdin", "max_line"));
  EXPECT_TRUE(has("file", "path") && has("file", "follow") && has("file", "start_at"));
  EXPECT_TRUE(has("unix", "path") && has("unix", "mode"));
}

TEST(LocalInputsPlugin, FileFactoryBuildsAWorkingInput) {
  TempDir dir;
  const auto path = dir.write("in.ndjson", "{\"a\":1}\n{\"b\":2}\n");
  TestHost host;
  const auto node = options({{"path", path.string()}, {"max_line", "64KiB"}});
  auto input = create("file", node, host);
  ASSERT_NE(input, nullptr);
  RecordingSink sink;
  input->run(sink, std::stop_token{});
  EXPECT_EQ(sink.texts("file:" + path.string()),
            (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
}

TEST(LocalInputsPlugin, UnixFactoryAppliesTheMode) {
  TempDir dir;
  const auto path = dir.path() / "s.sock";
  TestHost host;
  const auto node = options({{"path", path.string()}, {"mode", "0640"}});
  auto input = create("unix", node, host);
  ASSERT_NE(input, nullptr);
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  input.reset();
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path)));
}

TEST(LocalInputsPlugin, StdinFactoryBuildsAnInput) {
  TestHost host;
  const auto node = options({});
  EXPECT_NE(create("stdin", node, host), nullptr);
}

TEST(LocalInputsPlugin, OptionErrorsNameTheKeyAndPosition) {
  EXPECT_NE(config_error("unix", {{"path", "/tmp/x.sock"}, {"mode", "0999"}})
                .find("agent.yaml:4:7: inputs[0].mode"),
            std::string::npos);
  EXPECT_NE(config_error("unix", {{"path", "/tmp/x.sock"}, {"mode", "rw"}}).find("octal"),
            std::string::npos);
  EXPECT_NE(config_error("file", {}).find("inputs[0].path"), std::string::npos);
  EXPECT_NE(config_error("file", {{"path", "/x"}, {"start_at", "middle"}}).find("start_at"),
            std::string::npos);
  EXPECT_NE(config_error("stdin", {{"max_line", "0"}}).find("max_line"), std::string::npos);
  // Upper bounds the host does not check for sizes and durations: the plugin's own.
  EXPECT_NE(config_error("stdin", {{"max_line", "65MiB"}})
                .find("agent.yaml:4:7: inputs[0].max_line: must be at most 64MiB"),
            std::string::npos);
  EXPECT_NE(config_error("file", {{"path", "/x"}, {"poll_interval", "2m"}})
                .find("inputs[0].poll_interval: must be at most 60s"),
            std::string::npos);
}

// `crosscut validate` runs the factories' checks without building anything: it must refuse
// what building refuses, with the same line.
TEST(LocalInputsPlugin, CheckRefusesABadModeWithTheLineCreateGivesAndCreatesNothing) {
  TempDir dir;
  const auto path = dir.path() / "never.sock";
  for (const std::string mode : {"abc", "999", "-1", "0o660", "", "07777x", "10000"}) {
    const std::map<std::string, std::string> o{{"path", path.string()}, {"mode", mode}};
    const std::string checked = check_error("unix", o);
    EXPECT_EQ(checked,
              "agent.yaml:4:7: inputs[0].mode: expected octal permissions such as 0660, "
              "got '" +
                  mode + "'");
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path))) << mode;
    EXPECT_EQ(config_error("unix", o), checked) << "validate and run disagree on " << mode;
  }
  // Accepted modes pass the check, which still creates no socket.
  for (const std::string mode : {"0660", "660", "0600", "7777", "0"}) {
    EXPECT_EQ(check_error("unix", {{"path", path.string()}, {"mode", mode}}), "") << mode;
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path))) << mode;
  }
}

TEST(LocalInputsPlugin, CheckRefusesWhatTheConstructorsUsedTo) {
  EXPECT_EQ(check_error("unix", {{"path", ""}}),
            "agent.yaml:4:7: inputs[0].path: a socket path is required");
  EXPECT_EQ(check_error("file", {{"path", ""}}),
            "agent.yaml:4:7: inputs[0].path: a file path is required");
  EXPECT_EQ(check_error("file", {{"path", "/x"}, {"poll_interval", "61s"}}),
            "agent.yaml:4:7: inputs[0].poll_interval: must be at most 60s");
  EXPECT_EQ(check_error("file", {{"path", "/nonexistent/x"}, {"poll_interval", "60s"}}), "");
  EXPECT_EQ(check_error("stdin", {}), "");
}

TEST(LocalInputsPlugin, MaxLineIsCappedAt64MiBForEveryInput) {
  TempDir dir;
  const std::map<std::string, std::map<std::string, std::string>> inputs{
      {"stdin", {}},
      {"file", {{"path", "/var/log/x.ndjson"}}},
      {"unix", {{"path", (dir.path() / "cap.sock").string()}}}};
  for (const auto& input : inputs) {
    const std::string& type = input.first;
    auto with = [&input](const std::string& max_line) {
      auto o = input.second;
      o["max_line"] = max_line;
      return o;
    };
    EXPECT_EQ(check_error(type, with("65MiB")),
              "agent.yaml:4:7: inputs[0].max_line: must be at most 64MiB")
        << type;
    EXPECT_EQ(check_error(type, with("67108865")),
              "agent.yaml:4:7: inputs[0].max_line: must be at most 64MiB")
        << type;
    EXPECT_EQ(check_error(type, with("64MiB")), "") << type;
    EXPECT_EQ(check_error(type, with("4MiB")), "") << type;
  }
  // Building refuses the same.
  EXPECT_EQ(config_error("stdin", {{"max_line", "65MiB"}}),
            "agent.yaml:4:7: inputs[0].max_line: must be at most 64MiB");
}

TEST(LocalInputsPlugin, UnixLimitsAreCheckedBeforeAnythingIsBuilt) {
  TempDir dir;
  const auto path = dir.path() / "limits.sock";
  auto with = [&](const std::string& key, const std::string& value) {
    return check_error("unix", {{"path", path.string()}, {key, value}});
  };
  EXPECT_EQ(with("idle_timeout", "100ms"), "");
  EXPECT_EQ(with("idle_timeout", "24h"), "");
  EXPECT_EQ(with("idle_timeout", "25h"),
            "agent.yaml:4:7: inputs[0].idle_timeout: must be at most 24h");
  EXPECT_NE(with("idle_timeout", "0s").find("inputs[0].idle_timeout"), std::string::npos);
  EXPECT_EQ(with("max_clients", "1"), "");
  EXPECT_EQ(with("max_clients", "65536"), "");
  EXPECT_NE(with("max_clients", "0").find("inputs[0].max_clients"), std::string::npos);
  EXPECT_NE(with("max_clients", "65537").find("inputs[0].max_clients"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path)));
}

// The refusal and idle counters reach the host as metrics, read there without an SDK change.
TEST(LocalInputsPlugin, UnixCountsRefusedAndIdleClientsAsHostMetrics) {
  TempDir dir;
  const auto path = dir.path() / "metrics.sock";
  TestHost host;
  const auto node =
      options({{"path", path.string()}, {"max_clients", "1"}, {"idle_timeout", "200ms"}});
  auto input = create("unix", node, host);
  ASSERT_NE(input, nullptr);
  RecordingSink sink;
  crosscut::local_inputs::testing::Running running{*input, sink};
  using crosscut::local_inputs::testing::closed_by_server;
  using crosscut::local_inputs::testing::connect_to;
  auto first = connect_to(path);
  ASSERT_TRUE(first.valid());
  crosscut::local_inputs::testing::send_all(first.get(), "{\"a\":1}\n");
  ASSERT_TRUE(sink.wait_for_lines(1));
  auto second = connect_to(path);
  ASSERT_TRUE(second.valid());
  EXPECT_TRUE(closed_by_server(second.get()));  // over max_clients
  EXPECT_TRUE(closed_by_server(first.get()));   // silent for idle_timeout
  running.stop();
  EXPECT_EQ(host.metric("unix_input.clients_served"), 1);
  EXPECT_EQ(host.metric("unix_input.clients_refused"), 1);
  EXPECT_EQ(host.metric("unix_input.clients_closed_idle"), 1);
  bool summarised = false;
  for (const auto& r : host.logs("unix_input")) summarised |= r.message == "unix input stopped";
  EXPECT_TRUE(summarised);
}

}  // namespace
