#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/option_validator.hpp"
#include "file_log/rotating_file_sink.hpp"
#include "support/config_nodes.hpp"
#include "support/test_host.hpp"

extern "C" const crosscut_plugin_info* crosscut_plugin_entry();

namespace crosscut::testing {
namespace {

namespace fs = std::filesystem;
using plugins::file_log::RotatingFileOptions;
using plugins::file_log::RotatingFileSink;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/crosscut-file-log-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

void write_n(RotatingFileSink& sink, int from, int to) {
  for (int i = from; i < to; ++i) {
    const std::string json = R"({"message":"record )" + std::to_string(1000 + i) + R"("})";
    sdk::LogRecord r;
    r.message = "record";
    r.json = json;
    sink.write(r);
  }
}

int record_number(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  EXPECT_FALSE(doc.HasParseError()) << line;
  return std::stoi(std::string(doc["message"].GetString()).substr(7)) - 1000;
}

TEST(RotatingFileSink, RotationKeepsMaxFilesAndWholeLines) {
  TempDir dir;
  const std::string path = dir.path + "/app.log";
  // Each line is 26 bytes: 3 lines a file.
  RotatingFileSink sink(RotatingFileOptions{path, sdk::ByteSize{100}, 2});
  write_n(sink, 0, 30);
  sink.flush();
  EXPECT_TRUE(fs::exists(path));
  EXPECT_TRUE(fs::exists(path + ".1"));
  EXPECT_TRUE(fs::exists(path + ".2"));
  EXPECT_FALSE(fs::exists(path + ".3"));
  // The newest records, in order, oldest file first; no file over the limit.
  std::vector<int> seen;
  for (const auto& p : {path + ".2", path + ".1", path}) {
    EXPECT_LE(fs::file_size(p), 100u);
    for (const auto& line : lines_of(p)) seen.push_back(record_number(line));
  }
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), 29);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i], seen[i - 1] + 1);
  EXPECT_EQ(seen.size(), 9u);  // three full files
  EXPECT_EQ(sink.failures(), 0u);
}

TEST(RotatingFileSink, AppendsToAnExistingFileAndCountsItsSize) {
  TempDir dir;
  const std::string path = dir.path + "/app.log";
  {
    RotatingFileSink sink(RotatingFileOptions{path, sdk::ByteSize{100}, 1});
    write_n(sink, 0, 3);
  }  // destructor flushes
  EXPECT_EQ(lines_of(path).size(), 3u);
  RotatingFileSink sink(RotatingFileOptions{path, sdk::ByteSize{100}, 1});
  write_n(sink, 3, 5);  // a fourth line would pass 100 bytes: rotate first
  sink.flush();
  EXPECT_EQ(lines_of(path + ".1").size(), 3u);
  EXPECT_EQ(lines_of(path).size(), 2u);
}

TEST(RotatingFileSink, ReopenFollowsAnExternalRotation) {
  TempDir dir;
  const std::string path = dir.path + "/app.log";
  RotatingFileSink sink(RotatingFileOptions{path, sdk::ByteSize{1 << 20}, 3});
  write_n(sink, 0, 2);
  sink.flush();
  fs::rename(path, path + ".moved");  // what logrotate does before sending SIGHUP
  write_n(sink, 2, 3);                // still goes to the moved file
  sink.reopen();
  write_n(sink, 3, 5);
  sink.flush();
  EXPECT_EQ(lines_of(path + ".moved").size(), 3u);
  ASSERT_EQ(lines_of(path).size(), 2u);
  EXPECT_EQ(record_number(lines_of(path)[0]), 3);
}

TEST(RotatingFileSink, UnwritablePathIsCountedNotFatal) {
  TempDir dir;
  const std::string file = dir.path + "/not-a-dir";
  std::ofstream(file) << "x";
  RotatingFileSink sink(
      RotatingFileOptions{file + "/app.log", sdk::ByteSize{1 << 20}, 3});  // ENOTDIR
  write_n(sink, 0, 4);
  sink.flush();
  EXPECT_EQ(sink.failures(), 4u);
}

TEST(RotatingFileSink, DiskFullIsCounted) {
  RotatingFileSink sink(RotatingFileOptions{"/dev/full", sdk::ByteSize{100}, 3});
  write_n(sink, 0, 7);  // not a regular file: never rotated
  sink.flush();
  EXPECT_EQ(sink.failures(), 7u);
  EXPECT_TRUE(fs::exists("/dev/full"));
}

TEST(RotatingFileSink, PathThatBecomesUnwritableIsCounted) {
  TempDir dir;
  const std::string sub = dir.path + "/logs";
  fs::create_directory(sub);
  RotatingFileSink sink(RotatingFileOptions{sub + "/app.log", sdk::ByteSize{1 << 20}, 3});
  write_n(sink, 0, 2);
  sink.flush();
  EXPECT_EQ(sink.failures(), 0u);
  fs::remove_all(sub);
  sink.reopen();  // the directory is gone
  write_n(sink, 2, 5);
  sink.flush();
  EXPECT_EQ(sink.failures(), 3u);
  fs::create_directory(sub);  // it comes back: writing resumes
  write_n(sink, 5, 6);
  sink.flush();
  EXPECT_EQ(sink.failures(), 3u);
  EXPECT_EQ(lines_of(sub + "/app.log").size(), 1u);
}

TEST(FileLogPlugin, FactoryReadsOptions) {
  const auto& d = *static_cast<const sdk::PluginDescriptor*>(crosscut_plugin_entry()->descriptor);
  EXPECT_EQ(d.name, "file_log");
  ASSERT_EQ(d.components.size(), 1u);
  EXPECT_EQ(d.components[0].type, "rotating_file");
  EXPECT_EQ(d.components[0].kind, sdk::ComponentKind::log_sink);
  TempDir dir;
  TestHost host;
  sdk::ConfigNode node;
  node.kind = sdk::ConfigNode::Kind::map;
  node.entries = {{"path", scalar(dir.path + "/x.log")},
                  {"max_size", scalar("1KiB")},
                  {"max_files", scalar("2")}};
  auto c = d.components[0].create(sdk::ConfigView(&node, nullptr, "logging.sinks[1]"), host);
  ASSERT_NE(dynamic_cast<sdk::LogSink*>(c.get()), nullptr);
  EXPECT_TRUE(fs::exists(dir.path + "/x.log"));
  node.entries = {{"max_size", scalar("1KiB")}};
  EXPECT_THROW(d.components[0].create(sdk::ConfigView(&node, nullptr, "logging.sinks[1]"), host),
               sdk::ConfigError);
  node.entries = {{"path", scalar("")}};
  EXPECT_EQ(config_error([&] {
              d.components[0].create(sdk::ConfigView(&node, nullptr, "logging.sinks[1]"), host);
            }),
            "<config>:0:0: logging.sinks[1].path: a file path is required");
}

TEST(FileLogPlugin, TableDeclaresDefaultsAndBounds) {
  const auto& schema = RotatingFileSink::options_table().schema();
  ASSERT_EQ(schema.size(), 3u);
  EXPECT_EQ(schema[0].key, "path");
  EXPECT_TRUE(schema[0].required);
  EXPECT_EQ(schema[1].key, "max_size");
  EXPECT_EQ(schema[1].type, sdk::OptionType::size);
  EXPECT_EQ(schema[1].default_value, "100MiB");
  EXPECT_TRUE(schema[1].positive);
  EXPECT_EQ(schema[2].key, "max_files");
  EXPECT_EQ(schema[2].default_value, "5");

  // The bounds the sink relies on are the host validator's to enforce (in its own wording;
  // the position, bound and value are ours).
  auto max_files_error = [&](const std::string& value) {
    sdk::ConfigNode node = map({{"path", scalar("/tmp/x.log")}, {"max_files", scalar(value)}});
    return config_error([&] {
      config::validate_options(node, schema, {nullptr, "logging.sinks[1]"});
    });
  };
  const std::string at = "<config>:0:0: logging.sinks[1].max_files: must be ";
  const std::string too_many = max_files_error("1001");
  EXPECT_EQ(too_many.rfind(at, 0), 0u) << too_many;
  EXPECT_NE(too_many.find("1000 (got 1001)"), std::string::npos) << too_many;
  const std::string negative = max_files_error("-1");
  EXPECT_EQ(negative.rfind(at, 0), 0u) << negative;
  EXPECT_NE(negative.find(" 0 "), std::string::npos) << negative;
  EXPECT_NE(negative.find("(got -1)"), std::string::npos) << negative;
  EXPECT_EQ(max_files_error("0"), "(no error)");
  EXPECT_EQ(max_files_error("1000"), "(no error)");

  sdk::ConfigNode node = map(
      {{"path", scalar("/tmp/x.log")}, {"max_size", scalar("1KiB")}, {"max_files", scalar("2")}});
  const RotatingFileOptions o =
      RotatingFileSink::options_table().read(sdk::ConfigView(&node, nullptr, ""));
  EXPECT_EQ(o.path, "/tmp/x.log");
  EXPECT_EQ(o.max_size, sdk::ByteSize{1024});
  EXPECT_EQ(o.max_files, 2u);
}

}  // namespace
}  // namespace crosscut::testing
