// FileInput: read once, followed with appends, rotation, truncation and a late file.
#include "local_inputs/file_input.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <latch>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "local_inputs/unique_fd.hpp"
#include "recording_sink.hpp"
#include "support/process.hpp"

namespace {

using crosscut::local_inputs::FileInput;
using crosscut::local_inputs::FileInputOptions;
using crosscut::local_inputs::UniqueFd;
using crosscut::local_inputs::testing::RecordingSink;
using crosscut::testing::TempDir;

std::string numbered(int i) {
  return "{\"event\":\"message\",\"seq\":" + std::to_string(i) + "}";
}

void write_all(int fd, const std::string& data) {
  for (std::size_t at = 0; at < data.size();) {
    const auto n = ::write(fd, data.data() + at, data.size() - at);
    ASSERT_GT(n, 0);
    at += static_cast<std::size_t>(n);
  }
}

UniqueFd open_append(const std::filesystem::path& p) {
  return UniqueFd(::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
}

FileInputOptions followed(const std::filesystem::path& p) {
  FileInputOptions o;
  o.path = p.string();
  o.follow = true;
  return o;
}

TEST(FileInput, ReadsEveryLineInOrderAndReturnsAtEndOfFile) {
  TempDir dir;
  std::string content;
  for (int i = 1; i <= 100'000; ++i) content += numbered(i) + "\n";
  content += "\n" + numbered(0);  // an empty line, then an unterminated last line
  const auto path = dir.write("day.ndjson", content);
  RecordingSink sink;
  FileInput input(FileInputOptions{.path = path.string()});
  input.run(sink, std::stop_token{});
  const auto lines = sink.lines();
  ASSERT_EQ(lines.size(), 100'001u);
  for (int i = 0; i < 100'000; ++i) {
    ASSERT_EQ(lines[i].text, numbered(i + 1));
    ASSERT_EQ(lines[i].line, static_cast<std::uint64_t>(i + 1));
  }
  EXPECT_EQ(lines.back().text, numbered(0));
  EXPECT_EQ(lines.back().line, 100'002u);
  EXPECT_EQ(lines.back().input, "file:" + path.string());
}

TEST(FileInput, AMissingFileThrowsWhenNotFollowed) {
  TempDir dir;
  RecordingSink sink;
  FileInput input(FileInputOptions{.path = (dir.path() / "absent.ndjson").string()});
  try {
    input.run(sink, std::stop_token{});
    FAIL() << "expected an error";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.ndjson"), std::string::npos) << e.what();
  }
}

TEST(FileInput, OverlongLinesAreReportedWithTheirNumber) {
  TempDir dir;
  const auto path = dir.write("x.ndjson", "{\"a\":1}\n" + std::string(5000, 'z') + "\n{\"b\":2}\n");
  RecordingSink sink;
  FileInput input(FileInputOptions{.path = path.string(), .max_line = {1000}});
  input.run(sink, std::stop_token{});
  EXPECT_EQ(sink.texts("file:" + path.string()),
            (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  ASSERT_EQ(sink.bad().size(), 1u);
  EXPECT_EQ(sink.bad()[0].line, 2u);
}

TEST(FileInput, AcceptsALineUpToMaxLineAboveOneMebibyte) {
  TempDir dir;
  const std::string big = "{\"big\":\"" + std::string((std::size_t{3} << 20) - 10, 'b') + "\"}";
  const auto path = dir.write("big.ndjson", big + "\n{\"b\":2}\n");
  RecordingSink sink;
  FileInput input(FileInputOptions{.path = path.string(), .max_line = {std::uint64_t{4} << 20}});
  input.run(sink, std::stop_token{});
  EXPECT_EQ(sink.texts("file:" + path.string()), (std::vector<std::string>{big, "{\"b\":2}"}));
  EXPECT_TRUE(sink.bad().empty());
}

TEST(FileInput, FollowDeliversAppendsAndReturnsOnStop) {
  TempDir dir;
  const auto path = dir.write("live.ndjson", numbered(1) + "\n");
  RecordingSink sink;
  FileInput input(followed(path));
  std::jthread runner([&](std::stop_token stop) { input.run(sink, stop); });
  ASSERT_TRUE(sink.wait_for_lines(1));
  auto out = open_append(path);
  write_all(out.get(), numbered(2) + "\n" + "{\"half\":");
  ASSERT_TRUE(sink.wait_for_lines(2));
  write_all(out.get(), "true}\n");
  ASSERT_TRUE(sink.wait_for_lines(3));
  runner.request_stop();
  runner.join();
  EXPECT_EQ(sink.texts(input.name()),
            (std::vector<std::string>{numbered(1), numbered(2), "{\"half\":true}"}));
  EXPECT_EQ(sink.lines()[2].line, 3u);
}

TEST(FileInput, FollowStartingAtTheEndSkipsWhatIsThere) {
  TempDir dir;
  const auto path = dir.write("live.ndjson", numbered(1) + "\n" + "{\"being\":\"written");
  RecordingSink sink;
  auto options = followed(path);
  options.start_at = FileInputOptions::StartAt::end;
  std::latch opened(1);
  options.on_open = [&] { opened.count_down(); };
  FileInput input(options);
  std::jthread runner([&](std::stop_token stop) { input.run(sink, stop); });
  opened.wait();
  auto out = open_append(path);
  // The tail of the line being written when reading started is not a line of its own.
  write_all(out.get(), "\"}\n" + numbered(2) + "\n");
  ASSERT_TRUE(sink.wait_for_lines(1));
  write_all(out.get(), numbered(3) + "\n");
  ASSERT_TRUE(sink.wait_for_lines(2));
  runner.request_stop();
  runner.join();
  EXPECT_EQ(sink.texts(input.name()), (std::vector<std::string>{numbered(2), numbered(3)}));
}

// A writer rotating like logrotate (rename, then create) while it keeps writing; before each
// rotation it waits until the input has reached the current file, as real rotation intervals
// guarantee. It also writes to the renamed file before creating the next one.
TEST(FileInput, FollowLosesAndRepeatsNothingAcrossRotations) {
  TempDir dir;
  const auto path = dir.path() / "events.ndjson";
  constexpr int kFiles = 6, kPerFile = 3000;
  auto out = open_append(path);
  RecordingSink sink;
  FileInput input(followed(path));
  std::jthread runner([&](std::stop_token stop) { input.run(sink, stop); });

  int seq = 0;
  for (int file = 0; file < kFiles; ++file) {
    const int first = seq + 1;
    std::string batch;
    for (int i = 0; i < kPerFile; ++i) {
      batch += numbered(++seq) + "\n";
      if (batch.size() > 3000 || i == 0 || i + 1 == kPerFile) {
        write_all(out.get(), batch);
        batch.clear();
      }
      if (i == 0) {
        // The input has opened this file once it delivers its first line (all before it
        // came in order; the final check proves that).
        ASSERT_TRUE(sink.wait_for_lines(static_cast<std::size_t>(first)));
      }
    }
    if (file + 1 == kFiles) break;
    std::filesystem::rename(path, dir.path() / ("events.ndjson." + std::to_string(file)));
    const int late = ++seq;  // written to the renamed file, before the new one exists
    write_all(out.get(), numbered(late) + "\n" + numbered(++seq) + "\n");
    out = open_append(path);
  }
  ASSERT_TRUE(sink.wait_for_lines(static_cast<std::size_t>(seq)));
  runner.request_stop();
  runner.join();

  const auto lines = sink.lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(seq));
  for (int i = 0; i < seq; ++i) ASSERT_EQ(lines[i].text, numbered(i + 1)) << "at " << i;
  // Numbering restarts in each new file.
  EXPECT_EQ(lines[kPerFile + 2].line, 1u);
}

TEST(FileInput, FollowStartsOverAfterTruncation) {
  TempDir dir;
  const auto path = dir.write("t.ndjson", numbered(1) + "\n" + numbered(2) + "\n");
  RecordingSink sink;
  FileInput input(followed(path));
  std::jthread runner([&](std::stop_token stop) { input.run(sink, stop); });
  ASSERT_TRUE(sink.wait_for_lines(2));
  {
    UniqueFd out(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    ASSERT_TRUE(out.valid());
    write_all(out.get(), "{\"c\":3}\n");
  }
  ASSERT_TRUE(sink.wait_for_lines(3));
  runner.request_stop();
  runner.join();
  const auto lines = sink.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2].text, "{\"c\":3}");
  EXPECT_EQ(lines[2].line, 1u);
}

TEST(FileInput, FollowWaitsForAFileThatAppearsLater) {
  TempDir dir;
  const auto path = dir.path() / "later.ndjson";
  RecordingSink sink;
  FileInput input(followed(path));
  std::jthread runner([&](std::stop_token stop) { input.run(sink, stop); });
  {
    auto out = open_append(path);
    write_all(out.get(), numbered(1) + "\n" + numbered(2) + "\n");
  }
  ASSERT_TRUE(sink.wait_for_lines(2));
  // Deleted, absent for a while, then back.
  std::filesystem::remove(path);
  auto out = open_append(path);
  write_all(out.get(), numbered(3) + "\n");
  ASSERT_TRUE(sink.wait_for_lines(3));
  runner.request_stop();
  runner.join();
  EXPECT_EQ(sink.texts(input.name()),
            (std::vector<std::string>{numbered(1), numbered(2), numbered(3)}));
}

TEST(FileInput, FollowReturnsOnStopWhileTheFileIsMissing) {
  TempDir dir;
  RecordingSink sink;
  FileInput input(followed(dir.path() / "never.ndjson"));
  std::stop_source source;
  std::thread runner([&] { input.run(sink, source.get_token()); });
  source.request_stop();
  runner.join();
  EXPECT_EQ(sink.line_count(), 0u);
}

}  // namespace
