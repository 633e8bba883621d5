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
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include "stdio_sink/fd_record_sink.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

namespace {

using crosscut::sdk::DeliveryListener;
using crosscut::sdk::DeliveryOutcome;
using crosscut::sdk::DeliveryReceipt;
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

// Every completion, by ticket. Thread-safe.
class Receipts final : public DeliveryListener {
 public:
  struct Completion {
    DeliveryOutcome outcome;
    std::string kind;
    std::string reason;
  };
  void on_delivery(std::uint64_t ticket, DeliveryOutcome outcome, std::string_view kind,
                   std::string_view reason) noexcept override {
    std::lock_guard lock(mu_);
    by_ticket_[ticket].push_back({outcome, std::string(kind), std::string(reason)});
  }
  DeliveryReceipt receipt(std::uint64_t ticket) { return {this, ticket}; }
  std::vector<Completion> of(std::uint64_t ticket) const {
    std::lock_guard lock(mu_);
    auto it = by_ticket_.find(ticket);
    return it == by_ticket_.end() ? std::vector<Completion>{} : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::uint64_t, std::vector<Completion>> by_ticket_;
};

// Expects tickets [0, n) completed exactly once each, as `outcome` with `kind`.
void expect_completed(const Receipts& receipts, std::uint64_t n, DeliveryOutcome outcome,
                      const std::string& kind) {
  for (std::uint64_t t = 0; t < n; ++t) {
    const auto cs = receipts.of(t);
    ASSERT_EQ(cs.size(), 1u) << "ticket " << t;
    EXPECT_EQ(cs[0].outcome, outcome) << "ticket " << t;
    EXPECT_EQ(cs[0].kind, kind) << "ticket " << t;
    if (outcome != DeliveryOutcome::delivered) {
      EXPECT_FALSE(cs[0].reason.empty());
    }
  }
}

// A logger that keeps each record's fields, rendered as text.
class FieldLogger final : public crosscut::sdk::Logger {
 public:
  struct Entry {
    Level level;
    std::string message;
    std::map<std::string, std::string> fields;
  };
  bool should_log(Level) const noexcept override { return true; }
  void log(Level level, std::string_view message, crosscut::sdk::Fields fields) noexcept override {
    Entry e{level, std::string(message), {}};
    for (const auto& f : fields) {
      std::string text;
      std::visit(
          [&](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::string_view>)
              text = std::string(v);
            else if constexpr (std::is_same_v<V, std::int64_t> || std::is_same_v<V, double>)
              text = std::to_string(v);
            else if constexpr (std::is_same_v<V, bool>)
              text = v ? "true" : "false";
          },
          f.value.get());
      e.fields[std::string(f.key)] = text;
    }
    std::lock_guard lock(mu_);
    entries_.push_back(std::move(e));
  }
  std::vector<Entry> entries() const {
    std::lock_guard lock(mu_);
    return entries_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
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

TEST(FdRecordSink, AFullDiskCompletesRecordsAsRetriableAndIsReportedOncePerOutage) {
  FieldLogger log;
  Receipts receipts;
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  FdRecordSink sink(fd, true, "file /dev/full", {}, log);
  constexpr int kRecords = 500;
  for (int i = 0; i < kRecords; ++i) {
    Record r = record("{\"i\":" + std::to_string(i) + "}");
    r.receipt = receipts.receipt(static_cast<std::uint64_t>(i));
    ASSERT_TRUE(sink.publish(std::move(r)));
    if (i % 100 == 0) {
      ASSERT_TRUE(sink.flush(far_deadline()));  // several separate batches
    }
  }
  EXPECT_TRUE(sink.flush(far_deadline())) << "failed records are not outstanding";
  const auto s = sink.stats();
  EXPECT_EQ(s.published, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(s.failed, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(s.delivered, 0u);
  expect_completed(receipts, kRecords, DeliveryOutcome::retriable, "ENOSPC");
  EXPECT_EQ(receipts.of(0)[0].reason, "No space left on device");

  std::vector<FieldLogger::Entry> errors;
  for (const auto& e : log.entries())
    if (e.level == Level::error) errors.push_back(e);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].fields["sink"], "file /dev/full");
  EXPECT_EQ(errors[0].fields["error"], "No space left on device");
  EXPECT_EQ(errors[0].fields["errno"], "ENOSPC");
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

TEST(FdRecordSink, AClosedPipeIsAPermanentFailureNotASignal) {
  Pipe pipe;
  pipe.close_read();
  FieldLogger log;
  Receipts receipts;
  FdRecordSink sink(pipe.write_fd, true, "pipe", {}, log);
  for (std::uint64_t i = 0; i < 10; ++i) {
    Record r = record("1");
    r.receipt = receipts.receipt(i);
    ASSERT_TRUE(sink.publish(std::move(r)));
  }
  EXPECT_TRUE(sink.flush(far_deadline()));
  EXPECT_EQ(sink.stats().failed, 10u);
  expect_completed(receipts, 10, DeliveryOutcome::permanent, "EPIPE");
  EXPECT_EQ(receipts.of(9)[0].reason, "Broken pipe");
  std::size_t errors = 0;
  for (const auto& e : log.entries()) {
    if (e.level != Level::error) continue;
    ++errors;
    EXPECT_EQ(e.fields.at("errno"), "EPIPE");
  }
  EXPECT_EQ(errors, 1u);
}

TEST(FdRecordSink, DestructionIsBoundedWhenTheReaderNeverReads) {
  Pipe pipe;  // never read, never closed while the sink lives
  FieldLogger log;
  Receipts receipts;
  QueueOptions q;
  q.stop_timeout = 300ms;
  const std::string big = "\"" + std::string(1 << 20, 'x') + "\"";
  auto sink = std::make_unique<FdRecordSink>(pipe.write_fd, true, "pipe", q, log);
  // The first line is far more than the pipe holds: the writer waits on it.
  for (std::uint64_t i = 0; i < 5; ++i) {
    Record r = record(i == 0 ? big : "1");
    r.receipt = receipts.receipt(i);
    ASSERT_TRUE(sink->publish(std::move(r)));
  }
  EXPECT_FALSE(sink->flush(std::chrono::steady_clock::now() + 50ms));
  EXPECT_TRUE(receipts.of(0).empty()) << "completed while still being written";
  const auto start = std::chrono::steady_clock::now();
  sink.reset();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 300ms) << "gave up before the stop timeout";
  EXPECT_LT(took, 10s);
  expect_completed(receipts, 5, DeliveryOutcome::retriable, "EAGAIN");
  bool logged = false;
  for (const auto& e : log.entries())
    logged |=
        e.level == Level::error && e.fields.count("errno") == 1 && e.fields.at("errno") == "EAGAIN";
  EXPECT_TRUE(logged);
}

TEST(FdRecordSink, ReceiptsCompleteAsDeliveredOnceTheLineIsWritten) {
  Pipe pipe;
  crosscut::testing::TestHost host;
  Receipts receipts;
  FdRecordSink sink(pipe.write_fd, true, "pipe", {}, host.logger("sink", "app"));
  const std::string big = "\"" + std::string(1 << 20, 'x') + "\"";
  for (std::uint64_t i = 0; i < 2; ++i) {
    Record r = record(i == 0 ? big : "2");
    r.receipt = receipts.receipt(i);
    ASSERT_TRUE(sink.publish(std::move(r)));
  }
  EXPECT_FALSE(sink.flush(std::chrono::steady_clock::now() + 20ms));
  EXPECT_TRUE(receipts.of(0).empty());
  EXPECT_TRUE(receipts.of(1).empty());
  std::string received;
  std::jthread reader([&] { received = pipe.read_lines(2); });
  ASSERT_TRUE(sink.flush(far_deadline()));
  reader.join();
  expect_completed(receipts, 2, DeliveryOutcome::delivered, "");
  EXPECT_EQ(std::count(received.begin(), received.end(), '\n'), 2);
}

TEST(FdRecordSink, WritesTheRecordIdFirstInTheEnvelope) {
  crosscut::testing::TempDir dir;
  crosscut::testing::TestHost host;
  const auto path = dir.path() / "out.ndjson";
  {
    FdRecordSink sink(open_file(path), true, "file", {}, host.logger("sink", "app"));
    Record with_id = record("{\"a\":1}");
    with_id.id = "0f8e-7d6c";
    ASSERT_TRUE(sink.publish(std::move(with_id)));
    ASSERT_TRUE(sink.publish(record("2")));
    ASSERT_TRUE(sink.flush(far_deadline()));
  }
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "{\"id\":\"0f8e-7d6c\",\"topic\":\"t\",\"key\":\"k\",\"value\":{\"a\":1}}");
  EXPECT_EQ(lines[1], "{\"topic\":\"t\",\"key\":\"k\",\"value\":2}");
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
