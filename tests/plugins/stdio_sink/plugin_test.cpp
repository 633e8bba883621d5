// The stdio_sink plugin's descriptor and its `stdout` and `file` factories.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "config/option_validator.hpp"
#include "crosscut/sdk/sdk.hpp"
#include "stdio_sink/fd_record_sink.hpp"
#include "support/component_cast.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

extern "C" const crosscut_plugin_info* crosscut_plugin_entry();

namespace {

using crosscut::sdk::ComponentFactory;
using crosscut::sdk::ConfigNode;
using crosscut::sdk::ConfigView;
using crosscut::sdk::Record;
using crosscut::sdk::RecordSink;
using namespace std::chrono_literals;

const ComponentFactory& factory(const std::string& type) {
  const auto* info = crosscut_plugin_entry();
  const auto& d = *static_cast<const crosscut::sdk::PluginDescriptor*>(info->descriptor);
  for (const auto& f : d.components)
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
// creates the sink.
std::unique_ptr<RecordSink> create(const std::string& type, ConfigNode node,
                                   crosscut::sdk::HostContext& host) {
  auto file = std::make_shared<const std::string>("crosscut.yaml");
  crosscut::config::validate_options(node, factory(type).schema, {file, "sinks.out"});
  auto c = factory(type).create(ConfigView(&node, file, "sinks.out"), host);
  return crosscut::testing::component_as<RecordSink>(std::move(c));
}

Record record(std::string payload) {
  Record r;
  r.topic = "ws.metrics";
  r.key = "korea/upbit/ticker";
  r.payload = std::move(payload);
  return r;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(StdioSinkPlugin, DescribesTheStdoutAndFileSinks) {
  const auto* info = crosscut_plugin_entry();
  ASSERT_NE(info, nullptr);
  EXPECT_STREQ(info->name, "stdio_sink");
  EXPECT_STREQ(info->version, "1.0.0");
  const auto& d = *static_cast<const crosscut::sdk::PluginDescriptor*>(info->descriptor);
  ASSERT_EQ(d.components.size(), 2u);
  for (const auto& f : d.components) {
    EXPECT_EQ(f.kind, crosscut::sdk::ComponentKind::record_sink);
    EXPECT_FALSE(f.description.empty());
  }
  bool path_required = false;
  for (const auto& o : factory("file").schema) path_required |= o.key == "path" && o.required;
  EXPECT_TRUE(path_required);
  // The queue keys are top-level keys of both sinks, with the same defaults.
  for (const std::string type : {"stdout", "file"}) {
    std::map<std::string, std::string> defaults;
    for (const auto& o : factory(type).schema) defaults[o.key] = o.default_value;
    EXPECT_EQ(defaults["queue_capacity"], "65536") << type;
    EXPECT_EQ(defaults["on_full"], "block") << type;
    EXPECT_EQ(defaults["block_timeout"], "100ms") << type;
  }
}

TEST(StdioSinkPlugin, FileSinkAppendsByDefaultAndTruncatesWhenAskedTo) {
  crosscut::testing::TempDir dir;
  crosscut::testing::TestHost host;
  const auto path = dir.write("out.ndjson", "previous\n");
  {
    auto sink = create("file", options({{"path", path.string()}}), host);
    ASSERT_TRUE(sink);
    ASSERT_TRUE(sink->publish(record("{\"total\":180}")));
    ASSERT_TRUE(sink->flush(std::chrono::steady_clock::now() + 60s));
  }
  EXPECT_EQ(slurp(path),
            "previous\n{\"topic\":\"ws.metrics\",\"key\":\"korea/upbit/"
            "ticker\",\"value\":{\"total\":180}}\n");
  {
    auto sink = create("file", options({{"path", path.string()}, {"append", "false"}}), host);
    ASSERT_TRUE(sink->publish(record("1")));
  }
  EXPECT_EQ(slurp(path), "{\"topic\":\"ws.metrics\",\"key\":\"korea/upbit/ticker\",\"value\":1}\n");
}

// Not a configuration error: the same file may open elsewhere or later (it is not there yet,
// or the process is out of descriptors).
TEST(StdioSinkPlugin, FileSinkThatCannotOpenFailsToStartNamingTheFile) {
  crosscut::testing::TempDir dir;
  crosscut::testing::TestHost host;
  const auto path = (dir.path() / "missing" / "x.ndjson").string();
  try {
    create("file", options({{"path", path}}), host);
    ADD_FAILURE() << "opened a file in a missing folder";
  } catch (const crosscut::sdk::ConfigError& e) {
    ADD_FAILURE() << "reported as a configuration error: " << e.what();
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot open '" + path + "' for writing"), std::string::npos) << what;
    EXPECT_NE(what.find("No such file or directory"), std::string::npos) << what;
  }
  EXPECT_THROW(create("file", options({}), host), crosscut::sdk::ConfigError);
  EXPECT_THROW(create("file", options({{"path", "x"}, {"on_full", "wait"}}), host),
               crosscut::sdk::ConfigError);
}

TEST(StdioSinkPlugin, StdoutSinkWritesToStandardOutput) {
  crosscut::testing::TempDir dir;
  crosscut::testing::TestHost host;
  const auto path = dir.path() / "stdout.ndjson";
  // Point fd 1 at a file for the sink's lifetime (GoogleTest prints nothing meanwhile).
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(saved, 0);
  ASSERT_GE(file, 0);
  ASSERT_EQ(::dup2(file, STDOUT_FILENO), STDOUT_FILENO);
  bool flushed = false;
  {
    auto sink = create("stdout", options({{"on_full", "drop"}, {"queue_capacity", "10"}}), host);
    for (int i = 0; i < 3; ++i) sink->publish(record(std::to_string(i)));
    flushed = sink->flush(std::chrono::steady_clock::now() + 60s);
  }
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  ::close(file);
  EXPECT_TRUE(flushed);
  EXPECT_EQ(slurp(path),
            "{\"topic\":\"ws.metrics\",\"key\":\"korea/upbit/ticker\",\"value\":0}\n"
            "{\"topic\":\"ws.metrics\",\"key\":\"korea/upbit/ticker\",\"value\":1}\n"
            "{\"topic\":\"ws.metrics\",\"key\":\"korea/upbit/ticker\",\"value\":2}\n");
}

}  // namespace
