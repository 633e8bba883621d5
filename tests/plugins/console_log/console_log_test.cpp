#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <memory>
#include <string>

#include "config/option_validator.hpp"
#include "console_log/console_log_sink.hpp"
#include "support/config_nodes.hpp"
#include "support/test_host.hpp"

extern "C" const crosscut_plugin_info* crosscut_plugin_entry();

namespace crosscut::testing {
namespace {

using plugins::console_log::ConsoleLogSink;
using plugins::console_log::ConsoleOptions;
using plugins::console_log::Format;
using plugins::console_log::Stream;

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  return out;
}

struct Record {
  sdk::Value extra = sdk::Value::object({{"exchange", "upbit"}, {"note", "two words"}, {"n", 3}});
  std::string json =
      R"({"timestamp":"2025-01-13T14:30:00.123456+09:00","level":"WARNING","logger":"orchestrator",)"
      R"("category":"app","message":"line1\nline2","extra":{"exchange":"upbit","note":"two words","n":3}})";
  sdk::LogRecord get() const {
    sdk::LogRecord r;
    r.level = sdk::Level::warning;
    r.logger = "orchestrator";
    r.category = "app";
    r.message = "line1\nline2\x1b[31m";
    r.extra = &extra;
    r.json = json;
    return r;
  }
};

TEST(ConsoleLogSink, JsonFormatWritesTheLineVerbatim) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::tmpfile(), std::fclose);
  ConsoleLogSink sink(ConsoleOptions{Format::json, Stream::standard_error}, f.get());
  Record rec;
  sink.write(rec.get());
  sink.write(rec.get());
  sink.flush();
  EXPECT_EQ(contents(f.get()), rec.json + "\n" + rec.json + "\n");
  EXPECT_EQ(sink.failures(), 0u);
}

TEST(ConsoleLogSink, PrettyFormatIsOneReadableLineWithoutColoursOffATerminal) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::tmpfile(), std::fclose);
  ConsoleLogSink sink(ConsoleOptions{Format::pretty, Stream::standard_error}, f.get());
  Record rec;
  sink.write(rec.get());
  const std::string out = contents(f.get());
  EXPECT_EQ(out,
            "2025-01-13T14:30:00.123456+09:00 WARNING  orchestrator/app: line1\\nline2\\x1b[31m "
            "exchange=upbit note=\"two words\" n=3\n");
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
}

TEST(ConsoleLogSink, FailedWritesAreCountedNotThrown) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen("/dev/full", "w"), std::fclose);
  ASSERT_TRUE(f);
  std::setvbuf(f.get(), nullptr, _IONBF, 0);
  ConsoleLogSink sink(ConsoleOptions{Format::json, Stream::standard_error}, f.get());
  Record rec;
  for (int i = 0; i < 3; ++i) sink.write(rec.get());
  EXPECT_EQ(sink.failures(), 3u);
}

TEST(ConsoleLogPlugin, DescriptorAndFactory) {
  const auto* info = crosscut_plugin_entry();
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->sdk_abi_version, static_cast<std::uint32_t>(CROSSCUT_SDK_ABI_VERSION));
  const auto& d = *static_cast<const sdk::PluginDescriptor*>(info->descriptor);
  EXPECT_EQ(d.name, "console_log");
  ASSERT_EQ(d.components.size(), 1u);
  const auto& factory = d.components[0];
  EXPECT_EQ(factory.kind, sdk::ComponentKind::log_sink);
  EXPECT_EQ(factory.type, "console");

  TestHost host;
  sdk::ConfigNode node;
  node.kind = sdk::ConfigNode::Kind::map;
  node.entries = {{"format", scalar("pretty")}, {"stream", scalar("stdout")}};
  auto component = factory.create(sdk::ConfigView(&node, nullptr, "logging.sinks[0]"), host);
  EXPECT_NE(dynamic_cast<sdk::LogSink*>(component.get()), nullptr);

  // An unknown format is refused by the host's validator, from the table's choices.
  node.entries = {{"format", scalar("xml")}};
  EXPECT_EQ(
      config_error([&] {
        config::validate_options(node, factory.schema, {nullptr, "logging.sinks[0]"}, {"type"});
      }),
      "<config>:0:0: logging.sinks[0].format: 'xml' is not one of: json, pretty");
}

TEST(ConsoleLogPlugin, TableDeclaresChoicesAndDefaults) {
  const auto& schema = ConsoleLogSink::options_table().schema();
  ASSERT_EQ(schema.size(), 2u);
  EXPECT_EQ(schema[0].key, "format");
  EXPECT_EQ(schema[0].default_value, "json");
  EXPECT_EQ(schema[0].choices, (std::vector<std::string>{"json", "pretty"}));
  EXPECT_EQ(schema[1].key, "stream");
  EXPECT_EQ(schema[1].default_value, "stderr");
  EXPECT_EQ(schema[1].choices, (std::vector<std::string>{"stderr", "stdout"}));

  sdk::ConfigNode node = map({{"format", scalar("pretty")}, {"stream", scalar("stdout")}});
  const auto options = ConsoleLogSink::options_table().read(sdk::ConfigView(&node, nullptr, ""));
  EXPECT_EQ(options.format, Format::pretty);
  EXPECT_EQ(options.stream, Stream::standard_output);
}

}  // namespace
}  // namespace crosscut::testing
