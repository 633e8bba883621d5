// The writer-thread sink behind `stdout` and `file`: ordering, flush, queue policies,
// concurrent publishers and write failures.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <latch>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "stdio_sink/fd_record_sink.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

namespace {

using crosscut::sdk::Level;
using crosscut::sdk::OverflowPolicy;
using crosscut::sdk::Record;
using crosscut::stdio_sink::FdRecordSink;
using crosscut::stdio_sink::QueueOptions;
using namespace std::chrono_literals;

Record record(std::string payload, std::string key = "k") {
  Record r;
  r.topic = "t";
  r.key = std::move(key);
  r.payload = std::move(payload);
  return r;
}

auto far_deadline() {
  return std::chrono::steady_clock::now() + 60s;
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

rapidjson::Document parse(const std::string& line) {
  rapidjson::Document d;
  d.Parse(line.c_str());
  EXPECT_FALSE(d.HasParseError()) << line;
  return d;
}

int open_file(const std::filesystem::path& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

// A pipe whose read end the test drains (or not) to control when the writer can proceed.
struct Pipe {
  int read_fd = -1;
  int write_fd = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_fd = fds[0];
    write_fd = fds[1];
  }
  ~Pipe() { close_read(); }
  void close_read() {
    if (read_fd >= 0) ::close(read_fd);
    read_fd = -1;
  }
  // Reads until `lines` newlines arrived (or end of file).
  std::string read_lines(std::size_t lines) {
    std::string out;
    std::size_t seen = 0;
    char buf[65536];
    while (seen < lines) {
      const ssize_t n = ::read(read_fd, buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i) seen += buf[i] == '\n';
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
};

std::size_t count_errors(const crosscut::testing::TestHost& host, const std::string& logger) {
  std::size_t n = 0;
  for (const auto& r : host.logs(logger)) n += r.level == Level::error;
  return n;
}

TEST(FdRecordSink, WritesRecordsInPublishOrderAndFlushWaitsForThem) {
  crosscut::testing::TempDir dir;
  crosscut::testing::TestHost host;
  const auto path = dir.path() / "out.ndjson";
  FdRecordSink sink(open_file(path), true, "file", {}, host.logger("sink", "app"));
  constexpr int kRecords = 20'000;
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(
        sink.publish(record("{\"i\":" + std::to_string(i) + "}", "key-" + std::to_string(i))));
  }
  ASSERT_TRUE(sink.flush(far_deadline()));
  // flush() returned: the lines are in the file now, not eventually.
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    auto d = parse(lines[i]);
    ASSERT_EQ(d["value"]["i"].GetInt(), i);
    ASSERT_EQ(std::string(d["key"].GetString()), "key-" + std::to_string(i));
  }
  const auto s = sink.stats();
  EXPECT_EQ(s.published, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(s.delivered, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.dropped, 0u);
}

TEST(FdRecordSink, FlushWithNothingPublishedReturnsAtOnce) {
  crosscut::testing::TempDir dir;
  crosscut::testing::TestHost host;
  FdRecordSink sink(open_file(dir.path() / "x"), true, "file", {}, host.logger("sink", "app"));
  EXPECT_TRUE(sink.flush(std::chrono::steady_clock::now()));
}

TEST(FdRecordSink, FlushReportsFalseWhileTheWriterIsStuckAndTrueOnceItIsNot) {
  Pipe pipe;
  crosscut::testing::TestHost host;
  FdRecordSink sink(pipe.write_fd, true, "pipe", {}, host.logger("sink", "app"));
  // Far more than a pipe holds, and nobody reads yet: the writer blocks in write(2).
  const std::string big = "\"" + std::string(1 << 20, 'x') + "\"";
  ASSERT_TRUE(sink.publish(record(big)));
  ASSERT_TRUE(sink.publish(record("1")));
  EXPECT_FALSE(sink.flush(std::chrono::steady_clock::now() + 20ms));
  EXPECT_EQ(sink.stats().delivered, 0u);

  std::string received;
  std::jthread reader([&] { received = pipe.read_lines(2); });
  EXPECT_TRUE(sink.flush(far_deadline()));
  reader.join();
  EXPECT_EQ(sink.stats().delivered, 2u);
  EXPECT_EQ(std::count(received.begin(), received.end(), '\n'), 2);
}

TEST(FdRecordSink, DropPolicyRefusesAndCountsWhenTheQueueIsFull) {
  Pipe pipe;
  crosscut::testing::TestHost host;
  QueueOptions q;
  q.capacity = 1;
  q.on_full = OverflowPolicy::drop_newest;
  FdRecordSink sink(pipe.write_fd, true, "pipe", q, host.logger("sink", "app"));
  const std::string big = "\"" + std::string(1 << 20, 'x') + "\"";
  constexpr int kAttempts = 100;
  int accepted = 0;
  for (int i = 0; i < kAttempts; ++i) accepted += sink.publish(record(i == 0 ? big : "1"));
  // The writer is stuck on the first record; at most one more fits in the queue.
  EXPECT_GE(accepted, 1);
  EXPECT_LE(accepted, 2);
  auto s = sink.stats();
  EXPECT_EQ(s.published, static_cast<std::uint64_t>(accepted));
  EXPECT_EQ(s.dropped, static_cast<std::uint64_t>(kAttempts - accepted));

  std::jthread reader([&] { pipe.read_lines(static_cast<std::size_t>(accepted)); });
  EXPECT_TRUE(sink.flush(far_deadline()));
  EXPECT_EQ(sink.stats().delivered, static_cast<std::uint64_t>(accepted));
}

TEST(FdRecordSink, BlockPolicyGivesUpAfterTheTimeoutAndCountsTheDrop) {
  Pipe pipe;
  crosscut::testing::TestHost host;
  QueueOptions q;
  q.capacity = 1;
  q.on_full = OverflowPolicy::block;
  q.block_timeout = 10ms;
  FdRecordSink sink(pipe.write_fd, true, "pipe", q, host.logger("sink", "app"));
  const std::string big = "\"" + std::string(1 << 20, 'x') + "\"";
  int accepted = 0;
  for (int i = 0; i < 4; ++i) accepted += sink.publish(record(i == 0 ? big : "1"));
  EXPECT_LE(accepted, 2);
  EXPECT_EQ(sink.stats().dropped, static_cast<std::uint64_t>(4 - accepted));
  std::jthread reader([&] { pipe.read_lines(static_cast<std::size_t>(accepted)); });
  EXPECT_TRUE(sink.flush(far_deadline()));
}

TEST(FdRecordSink, BlockPolicyWaitsForSpaceInsteadOfDropping) {
  Pipe pipe;
  crosscut::testing::TestHost host;
  QueueOptions q;
  q.capacity = 4;
  q.on_full = OverflowPolicy::block;
  q.block_timeout = 60s;
  FdRecordSink sink(pipe.write_fd, true, "pipe", q, host.logger("sink", "app"));
  constexpr int kRecords = 5000;
  std::string received;
  std::jthread reader([&] { received = pipe.read_lines(kRecords); });
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(sink.publish(
        record("{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'p') + "\"}")));
  }
  EXPECT_TRUE(sink.flush(far_deadline()));
  reader.join();
  EXPECT_EQ(sink.stats().dropped, 0u);
  EXPECT_EQ(std::count(received.begin(), received.end(), '\n'), kRecords);
}

TEST(FdRecordSink, ConcurrentPublishersKeepEachThreadsOrderAndLoseNothing) {
  crosscut::testing::TempDir dir;
  crosscut::testing::TestHost host;
  const auto path = dir.path() / "out.ndjson";
  QueueOptions q;
  q.capacity = 256;  // small: publishers really contend with the writer
  q.block_timeout = 60s;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 3000;
  {
    FdRecordSink sink(open_file(path), true, "file", q, host.logger("sink", "app"));
    std::latch start(kThreads);
    {
      std::vector<std::jthread> publishers;
      for (int t = 0; t < kThreads; ++t) {
        publishers.emplace_back([&, t] {
          start.arrive_and_wait();
          for (int n = 0; n < kPerThread; ++n)
            sink.publish(
                record("{\"t\":" + std::to_string(t) + ",\"n\":" + std::to_string(n) + "}"));
        });
      }
      // Stats and flushes race the publishers too.
      publishers.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
          (void)sink.stats();
          (void)sink.flush(std::chrono::steady_clock::now() + 1ms);
        }
      });
    }
    ASSERT_TRUE(sink.flush(far_deadline()));
    const auto s = sink.stats();
    EXPECT_EQ(s.published, static_cast<std::uint64_t>(kThreads * kPerThread));
    EXPECT_EQ(s.delivered, s.published);
  }
  std::map<int, int> next;
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (const auto& line : lines) {
    auto d = parse(line);
    const int t = d["value"]["t"].GetInt();
    ASSERT_EQ(d["value"]["n"].GetInt(), next[t]++) << "thread " << t << " out of order";
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kPerThread);
}

TEST(FdRecordSink, WriteFailuresAreCountedAndReportedOncePerOutage) {
  crosscut::testing::TestHost host;
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  FdRecordSink sink(fd, true, "file /dev/full", {}, host.logger("sink", "app"));
  constexpr int kRecords = 500;
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(sink.publish(record("{\"i\":" + std::to_string(i) + "}")));
    if (i % 100 == 0) {
      ASSERT_TRUE(sink.flush(far_deadline()));  // several separate batches
    }
  }
  EXPECT_TRUE(sink.flush(far_deadline())) << "failed records are not outstanding";
  const auto s = sink.stats();
  EXPECT_EQ(s.published, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(s.failed, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(count_errors(host, "sink"), 1u);
}

TEST(FdRecordSink, EachOutageIsReportedOnceAndRecoveryIsReported) {
  crosscut::testing::TempDir dir;
  crosscut::testing::TestHost host;
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  const int good = open_file(dir.path() / "out.ndjson");
  const int sink_fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(full, 0);
  ASSERT_GE(good, 0);
  ASSERT_GE(sink_fd, 0);
  FdRecordSink sink(sink_fd, true, "file", {}, host.logger("sink", "app"));
  // Swapping what the sink's descriptor refers to (dup2) between flushes: fail, work, fail.
  auto publish_batch = [&](int n) {
    for (int i = 0; i < n; ++i) sink.publish(record("1"));
    return sink.flush(far_deadline());
  };
  ASSERT_TRUE(publish_batch(5));
  ASSERT_TRUE(publish_batch(5));
  ASSERT_EQ(::dup2(good, sink_fd), sink_fd);
  ASSERT_TRUE(publish_batch(7));
  ASSERT_EQ(::dup2(full, sink_fd), sink_fd);
  ASSERT_TRUE(publish_batch(3));
  const auto s = sink.stats();
  EXPECT_EQ(s.failed, 13u);
  EXPECT_EQ(s.delivered, 7u);
  EXPECT_EQ(count_errors(host, "sink"), 2u) << "two outages";
  std::size_t recoveries = 0;
  for (const auto& r : host.logs("sink")) recoveries += r.level == Level::info;
  EXPECT_EQ(recoveries, 1u);
  EXPECT_EQ(read_lines(dir.path() / "out.ndjson").size(), 7u);
  ::close(full);
  ::close(good);
}

TEST(FdRecordSink, AClosedPipeIsAFailureNotASignal) {
  Pipe pipe;
  pipe.close_read();
  crosscut::testing::TestHost host;
  FdRecordSink sink(pipe.write_fd, true, "pipe", {}, host.logger("sink", "app"));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(sink.publish(record("1")));
  }
  EXPECT_TRUE(sink.flush(far_deadline()));
  EXPECT_EQ(sink.stats().failed, 10u);
  EXPECT_EQ(count_errors(host, "sink"), 1u);
}

TEST(FdRecordSink, InvalidPayloadsAreWrittenAsStringsCountedAndWarnedOnce) {
  crosscut::testing::TempDir dir;
  crosscut::testing::TestHost host;
  const auto path = dir.path() / "out.ndjson";
  FdRecordSink sink(open_file(path), true, "file", {}, host.logger("sink", "app"));
  sink.publish(record("{\"ok\":true}"));
  sink.publish(record("not json"));
  sink.publish(record("{broken"));
  ASSERT_TRUE(sink.flush(far_deadline()));
  EXPECT_EQ(sink.invalid_payloads(), 2u);
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(parse(lines[0])["value"].IsObject());
  EXPECT_STREQ(parse(lines[1])["value"].GetString(), "not json");
  EXPECT_STREQ(parse(lines[2])["value"].GetString(), "{broken");
  std::size_t warnings = 0;
  for (const auto& r : host.logs("sink")) warnings += r.level == Level::warning;
  EXPECT_EQ(warnings, 1u);
  EXPECT_EQ(sink.stats().delivered, 3u) << "an invalid payload is still delivered";
}

TEST(FdRecordSink, DestructionWritesEverythingAlreadyAccepted) {
  crosscut::testing::TempDir dir;
  crosscut::testing::TestHost host;
  const auto path = dir.path() / "out.ndjson";
  constexpr int kRecords = 3000;
  {
    FdRecordSink sink(open_file(path), true, "file", {}, host.logger("sink", "app"));
    for (int i = 0; i < kRecords; ++i) {
      ASSERT_TRUE(sink.publish(record(std::to_string(i))));
    }
  }
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kRecords));
  EXPECT_EQ(parse(lines.back())["value"].GetInt(), kRecords - 1);
}

}  // namespace
