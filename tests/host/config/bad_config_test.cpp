// Every broken configuration is refused by `crosscut validate` with exit code 2, and exactly
// one line naming file:line:column and key path; a component that fails to start is refused by
// `crosscut run` with exit code 1 (validate starts nothing).
// Cases live in tests/data/config/bad/*.yaml; the first lines say what is expected:
//   # expect: <line>:<column>: <key path>: <message>   (or a message without a position)
//   # expect-exit: <code>                               (default 2)
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/process.hpp"

namespace fs = std::filesystem;
using crosscut::testing::run_crosscut;
using crosscut::testing::TempDir;

namespace {

const std::string kFixtureDir = std::string(CROSSCUT_TEST_FIXTURE_PLUGIN_DIR) + "/fixture_good";

std::vector<std::string> bad_config_files() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(CROSSCUT_TEST_DATA_DIR) / "config" / "bad"))
    if (e.path().extension() == ".yaml") out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

struct Expectation {
  std::string message;
  int exit_code = 2;
};

Expectation read_expectation(const fs::path& file) {
  std::ifstream in(file);
  Expectation e;
  std::string line;
  while (std::getline(in, line) && line.rfind("# ", 0) == 0) {
    if (line.rfind("# expect: ", 0) == 0) e.message = line.substr(10);
    if (line.rfind("# expect-exit: ", 0) == 0) e.exit_code = std::stoi(line.substr(15));
  }
  return e;
}

void expect_one_line_error(const crosscut::testing::ProcessResult& r, const std::string& needle,
                           int code) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "expected: " << needle << "\n got: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("crosscut: ", 0), 0u) << r.err;
}

class BadConfig : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(BadConfig, IsRefusedWithPositionAndKeyPath) {
  fs::path file = fs::path(CROSSCUT_TEST_DATA_DIR) / "config" / "bad" / GetParam();
  Expectation e = read_expectation(file);
  ASSERT_FALSE(e.message.empty()) << "no '# expect:' line in " << file;
  std::string needle = std::isdigit(static_cast<unsigned char>(e.message[0]))
                           ? file.string() + ":" + e.message
                           : e.message;
  if (e.exit_code == 1) {
    // A component that fails to start is not a configuration error: validate, which starts
    // nothing, accepts the file, and run reports the failure.
    auto v = run_crosscut({"validate", "-c", file.string(), "--path", kFixtureDir});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    auto r = run_crosscut({"run", "-c", file.string(), "--path", kFixtureDir});
    expect_one_line_error(r, needle, e.exit_code);
    return;
  }
  auto r = run_crosscut({"validate", "-c", file.string(), "--path", kFixtureDir});
  expect_one_line_error(r, needle, e.exit_code);
}

INSTANTIATE_TEST_SUITE_P(Files, BadConfig, ::testing::ValuesIn(bad_config_files()),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.size() - 5);
                           return n;
                         });

TEST(BadConfigGenerated, BinaryGarbage) {
  TempDir dir;
  std::string bytes;
  for (int i = 0; i < 4096; ++i) bytes.push_back(static_cast<char>((i * 7919) % 256));
  auto file = dir.write("garbage.yaml", bytes);
  auto r = run_crosscut({"validate", "-c", file.string()});
  expect_one_line_error(r, file.string() + ":1:1: control byte 0x00", 2);
}

TEST(BadConfigGenerated, InvalidUtf8IsPositioned) {
  TempDir dir;
  auto file = dir.write("latin1.yaml", "crosscut: 1\nservice:\n  name: caf\xe9\n");
  auto r = run_crosscut({"validate", "-c", file.string()});
  expect_one_line_error(r, file.string() + ":3:12: not valid UTF-8", 2);
}

TEST(BadConfigGenerated, AliasBombIsRefused) {
  TempDir dir;
  std::string y = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    y += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) y += std::string(k ? ", " : "") + "*a" + std::to_string(i - 1);
    y += "]\n";
  }
  auto file = dir.write("bomb.yaml", y);
  auto r = run_crosscut({"validate", "-c", file.string()});
  expect_one_line_error(r, "document too large after alias expansion", 2);
  EXPECT_NE(r.err.find(file.string() + ":"), std::string::npos);
}

TEST(BadConfigGenerated, HundredThousandDeepNestingIsRefused) {
  TempDir dir;
  auto file =
      dir.write("deep.yaml", "x: " + std::string(100000, '[') + std::string(100000, ']') + "\n");
  auto r = run_crosscut({"validate", "-c", file.string()});
  expect_one_line_error(r, file.string() + ":1:", 2);
  EXPECT_NE(r.err.find("nesting is too deep"), std::string::npos) << r.err;
}

TEST(BadConfigGenerated, DeepBlockNestingIsRefused) {
  TempDir dir;
  std::string y;
  for (int i = 0; i < 3000; ++i) y += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  auto file = dir.write("deep_block.yaml", y);
  auto r = run_crosscut({"validate", "-c", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(BadConfigGenerated, MissingFileAndDirectory) {
  auto r = run_crosscut({"validate", "-c", "/nonexistent/crosscut.yaml"});
  expect_one_line_error(r, "/nonexistent/crosscut.yaml: cannot read the configuration file", 2);
  TempDir dir;
  r = run_crosscut({"validate", "-c", dir.path().string()});
  expect_one_line_error(r, "is a directory", 2);
}

TEST(BadConfigGenerated, UsageErrorsExitTwo) {
  auto r = run_crosscut({"validate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = run_crosscut({"no-such-command"});
  EXPECT_EQ(r.exit_code, 2);
}
