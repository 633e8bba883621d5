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
  EXPECT_NE(config_error("stdin", {{"max_line", "2GiB"}})
                .find("agent.yaml:4:7: inputs[0].max_line: must be at most 1GiB"),
            std::string::npos);
  EXPECT_NE(config_error("file", {{"path", "/x"}, {"poll_interval", "2m"}})
                .find("inputs[0].poll_interval: must be at most 60s"),
            std::string::npos);
}

}  // namespace
