// UnixSocketInput under clients that misbehave: idle connections holding every slot, silent
// clients, floods, huge lines, and lines still unread when stop comes.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "local_inputs/unique_fd.hpp"
#include "local_inputs/unix_socket_input.hpp"
#include "recording_sink.hpp"
#include "socket_client.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

namespace {

using namespace std::chrono_literals;
using crosscut::local_inputs::UniqueFd;
using crosscut::local_inputs::UnixSocketInput;
using crosscut::local_inputs::UnixSocketOptions;
using crosscut::local_inputs::testing::closed_by_server;
using crosscut::local_inputs::testing::connect_to;
using crosscut::local_inputs::testing::RecordingSink;
using crosscut::local_inputs::testing::Running;
using crosscut::local_inputs::testing::SeenLine;
using crosscut::local_inputs::testing::send_all;
using crosscut::local_inputs::testing::send_unless_closed;
using crosscut::local_inputs::testing::still_open;
using crosscut::testing::CapturingLogger;
using crosscut::testing::TempDir;

UnixSocketOptions socket_at(const std::filesystem::path& p) {
  UnixSocketOptions o;
  o.path = p.string();
  return o;
}

std::string numbered_lines(const std::string& who, int count) {
  std::string all;
  for (int i = 1; i <= count; ++i)
    all += "{\"from\":\"" + who + "\",\"seq\":" + std::to_string(i) + "}\n";
  return all;
}

// Waits until a line with exactly `text` was delivered, looking at each line once (streams in
// these tests deliver hundreds of thousands of lines).
bool wait_for_text(const RecordingSink& sink, const std::string& text) {
  std::size_t scanned = 0;
  return sink.wait_until([&](const std::vector<SeenLine>& lines, const auto&) {
    for (; scanned < lines.size(); ++scanned)
      if (lines[scanned].text == text) return true;
    return false;
  });
}

// Keeps every line but the flood's, of which it keeps the first of each connection only: a
// flood delivers far too many lines to store.
class FloodFilter : public crosscut::sdk::InputSink {
 public:
  explicit FloodFilter(RecordingSink& inner) : inner_(inner) {}
  void on_line(std::string_view line, const crosscut::sdk::InputPosition& where) override {
    if (line.starts_with("{\"flood\":")) {
      std::lock_guard lock(mu_);
      if (!flooding_.emplace(where.input).second) return;
    }
    inner_.on_line(line, where);
  }
  void on_message(const crosscut::sdk::Target& t, std::string_view s,
                  std::optional<std::int64_t> ms) override {
    inner_.on_message(t, s, ms);
  }
  void on_bad_input(const crosscut::sdk::InputPosition& where, std::string_view reason) override {
    inner_.on_bad_input(where, reason);
  }

 private:
  RecordingSink& inner_;
  std::mutex mu_;
  std::set<std::string, std::less<>> flooding_;
};

// Sends on its own thread until destroyed: lines, or one line that never ends.
class Flood {
 public:
  Flood(const std::filesystem::path& path, bool with_newlines)
      : fd_(connect_to(path)), thread_([this, with_newlines](std::stop_token stop) {
          std::string chunk;
          for (int i = 0; chunk.size() < 64 * 1024; ++i)
            chunk +=
                with_newlines ? "{\"flood\":" + std::to_string(i) + "}\n" : std::string(1000, 'x');
          while (!stop.stop_requested() && send_unless_closed(fd_.get(), chunk)) {
            {
              std::lock_guard lock(mu_);
              sent_ += chunk.size();
            }
            progressed_.notify_all();
          }
        }) {}
  ~Flood() {
    thread_.request_stop();
    // A send blocked on a full socket buffer returns once the peer stops reading.
    ::shutdown(fd_.get(), SHUT_RDWR);
  }
  bool connected() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  // Blocks until more than `bytes` were sent; more than a socket buffer holds means the server
  // has been reading this client.
  bool wait_sent_over(std::uint64_t bytes) {
    std::unique_lock lock(mu_);
    return progressed_.wait_for(lock, 20s, [&] { return sent_ > bytes; });
  }

 private:
  UniqueFd fd_;
  std::mutex mu_;
  std::condition_variable progressed_;
  std::uint64_t sent_ = 0;
  std::jthread thread_;
};

// Every slot held by a connection that never sends: a real client is refused (it learns so at
// once, from the end of file) until idle_timeout frees the slots; then its lines are read.
TEST(UnixSocketLimits, IdleConnectionsHoldingEverySlotDoNotKeepARealClientOut) {
  TempDir dir;
  const auto path = dir.path() / "full.sock";
  CapturingLogger log("unix_input");
  auto options = socket_at(path);
  options.idle_timeout = 300ms;
  ASSERT_EQ(options.max_clients, 256u);  // the default: as many idle connections as that
  UnixSocketInput input(options, log);
  RecordingSink sink;
  Running running{input, sink};

  std::vector<UniqueFd> idle;
  for (std::size_t i = 0; i < options.max_clients; ++i) {
    idle.push_back(connect_to(path));
    ASSERT_TRUE(idle.back().valid()) << "idle client " << i << ": " << std::strerror(errno);
  }

  const std::string lines = numbered_lines("real", 50);
  int attempts = 0;
  std::size_t next_idle = 0;
  while (sink.line_count() < 50) {
    ASSERT_LT(++attempts, 5) << "the real client was never served";
    auto real = connect_to(path);
    ASSERT_TRUE(real.valid());
    send_unless_closed(real.get(), lines);  // a refused client may find the socket closed
    ::shutdown(real.get(), SHUT_WR);        // done: a served client is closed after its lines
    ASSERT_TRUE(closed_by_server(real.get()))
        << "neither served nor refused: the real client waits unread";
    if (sink.line_count() >= 50) break;
    // Refused. A slot frees when the input closes an idle connection.
    ASSERT_TRUE(closed_by_server(idle.at(next_idle++).get())) << "idle clients are never closed";
  }
  for (auto& fd : idle) ASSERT_TRUE(closed_by_server(fd.get()));
  running.stop();

  ASSERT_EQ(sink.lines().size(), 50u);
  EXPECT_EQ(sink.lines().front().text, "{\"from\":\"real\",\"seq\":1}");
  EXPECT_EQ(sink.lines().back().text, "{\"from\":\"real\",\"seq\":50}");
  const auto counters = input.counters();
  EXPECT_EQ(counters.closed_idle, options.max_clients);
  EXPECT_EQ(counters.served, options.max_clients + 1);
  EXPECT_EQ(counters.refused, static_cast<std::uint64_t>(attempts - 1));
}

// A silent client is disconnected after idle_timeout; a line it left unterminated is delivered,
// as when a client disconnects.
TEST(UnixSocketLimits, IdleTimeoutClosesSilentClientsAndDeliversTheirLastLine) {
  TempDir dir;
  const auto path = dir.path() / "idle.sock";
  CapturingLogger log("unix_input");
  auto options = socket_at(path);
  options.idle_timeout = 100ms;
  UnixSocketInput input(options, log);
  RecordingSink sink;
  Running running{input, sink};

  auto silent = connect_to(path);
  auto unfinished = connect_to(path);
  ASSERT_TRUE(silent.valid() && unfinished.valid());
  send_all(unfinished.get(), "{\"b\":1}\n{\"partial\":true}");
  EXPECT_TRUE(closed_by_server(silent.get()));
  EXPECT_TRUE(closed_by_server(unfinished.get()));
  ASSERT_TRUE(sink.wait_for_lines(2));
  running.stop();

  const auto lines = sink.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "{\"b\":1}");
  EXPECT_EQ(lines[1].text, "{\"partial\":true}");
  EXPECT_EQ(lines[1].line, 2u);
  EXPECT_EQ(input.counters().closed_idle, 2u);
}

TEST(UnixSocketLimits, AClientThatKeepsSendingIsNotClosedAsIdle) {
  TempDir dir;
  const auto path = dir.path() / "active.sock";
  CapturingLogger log("unix_input");
  auto options = socket_at(path);
  options.idle_timeout = 300ms;
  UnixSocketInput input(options, log);
  RecordingSink sink;
  FloodFilter filter(sink);
  Running running{input, filter};

  auto silent = connect_to(path);
  ASSERT_TRUE(silent.valid());
  {
    Flood busy(path, true);
    ASSERT_TRUE(busy.connected());
    // The busy client's data keeps arriving for longer than idle_timeout.
    ASSERT_TRUE(closed_by_server(silent.get()));
    ASSERT_TRUE(wait_for_text(sink, "{\"flood\":0}"));
    EXPECT_TRUE(still_open(busy.fd())) << "a client that sends was closed as idle";
    EXPECT_EQ(input.counters().closed_idle, 1u);
  }
  running.stop();
  EXPECT_EQ(input.counters().closed_idle, 1u);
}

// A client streaming without pause, lines or one endless line, gets a bounded read per turn:
// another client's line still arrives.
TEST(UnixSocketLimits, BusyClientsDoNotHoldUpAQuietOne) {
  TempDir dir;
  const auto path = dir.path() / "busy.sock";
  CapturingLogger log("unix_input");
  auto options = socket_at(path);
  options.max_line = {64ULL << 20};
  UnixSocketInput input(options, log);
  RecordingSink sink;
  FloodFilter filter(sink);
  Running running{input, filter};

  Flood lines(path, true);
  Flood endless_line(path, false);
  ASSERT_TRUE(lines.connected() && endless_line.connected());
  // Both are being served before the quiet client comes.
  ASSERT_TRUE(wait_for_text(sink, "{\"flood\":0}"));
  ASSERT_TRUE(endless_line.wait_sent_over(std::uint64_t{4} << 20));
  auto quiet = connect_to(path);
  ASSERT_TRUE(quiet.valid());
  send_all(quiet.get(), "{\"quiet\":1}\n");
  EXPECT_TRUE(wait_for_text(sink, "{\"quiet\":1}"));
  running.stop();
}

// Holds the input's thread inside its first on_line until released, so that a test can queue
// data, connections and a stop request while the input is busy.
class GatedSink : public crosscut::sdk::InputSink {
 public:
  explicit GatedSink(RecordingSink& inner) : inner_(inner) {}
  void on_line(std::string_view line, const crosscut::sdk::InputPosition& where) override {
    std::unique_lock lock(mu_);
    if (!entered_) {
      entered_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return released_; });
    }
    lock.unlock();
    inner_.on_line(line, where);
  }
  void on_message(const crosscut::sdk::Target& t, std::string_view s,
                  std::optional<std::int64_t> ms) override {
    inner_.on_message(t, s, ms);
  }
  void on_bad_input(const crosscut::sdk::InputPosition& where, std::string_view reason) override {
    inner_.on_bad_input(where, reason);
  }
  bool wait_entered() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 20s, [&] { return entered_; });
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    changed_.notify_all();
  }

 private:
  RecordingSink& inner_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool entered_ = false;
  bool released_ = false;
};

// What clients sent before stop is read and delivered before run() returns: from a client
// being served, from one still in the listen backlog, and from one that already hung up (its
// unterminated last line too). A partial line of a client still connected is dropped.
TEST(UnixSocketLimits, StopDeliversWhatClientsSentBeforeIt) {
  TempDir dir;
  const auto path = dir.path() / "stop.sock";
  CapturingLogger log("unix_input");
  UnixSocketInput input(socket_at(path), log);
  RecordingSink sink;
  GatedSink gate(sink);
  Running running{input, gate};

  constexpr int kLines = 1000;
  auto served = connect_to(path);
  ASSERT_TRUE(served.valid());
  send_all(served.get(), "{\"gate\":true}\n");
  ASSERT_TRUE(gate.wait_entered());
  // The input is busy: everything below waits in socket buffers and in the backlog.
  send_all(served.get(), numbered_lines("served", kLines) + "{\"cut\":");
  auto waiting = connect_to(path);
  auto gone = connect_to(path);
  ASSERT_TRUE(waiting.valid() && gone.valid());
  send_all(waiting.get(), numbered_lines("waiting", kLines));
  send_all(gone.get(), "{\"gone\":1}\n{\"gone\":2}");
  gone.reset();
  running.thread.request_stop();
  gate.release();
  running.thread.join();

  const std::string name = "unix:" + path.string() + "#";
  const auto served_lines = sink.texts(name + "1");
  ASSERT_EQ(served_lines.size(), static_cast<std::size_t>(kLines) + 1);
  EXPECT_EQ(served_lines.back(), "{\"from\":\"served\",\"seq\":1000}");
  const auto waiting_lines = sink.texts(name + "2");
  ASSERT_EQ(waiting_lines.size(), static_cast<std::size_t>(kLines));
  EXPECT_EQ(waiting_lines.back(), "{\"from\":\"waiting\",\"seq\":1000}");
  EXPECT_EQ(sink.texts(name + "3"), (std::vector<std::string>{"{\"gone\":1}", "{\"gone\":2}"}));
  EXPECT_EQ(input.counters().served, 3u);
  // The server side is closed: the clients read end of file.
  EXPECT_TRUE(closed_by_server(served.get(), 0ms));
  EXPECT_TRUE(closed_by_server(waiting.get(), 0ms));
}

// The simplest form: write, request stop at once, every line is there once run() returned
// (whether or not the input had accepted the connection yet). A fresh input each round.
TEST(UnixSocketLimits, LinesWrittenJustBeforeStopAreDelivered) {
  TempDir dir;
  CapturingLogger log("unix_input");
  for (int round = 0; round < 20; ++round) {
    const auto path = dir.path() / ("quick" + std::to_string(round) + ".sock");
    UnixSocketInput input(socket_at(path), log);
    RecordingSink sink;
    Running running{input, sink};
    auto client = connect_to(path);
    ASSERT_TRUE(client.valid());
    send_all(client.get(), numbered_lines("quick", 100));
    running.stop();
    ASSERT_EQ(sink.line_count(), 100u) << "round " << round;
  }
}

// Stop is not delayed by a client that keeps sending: what is read after it is bounded in time.
TEST(UnixSocketLimits, AFloodDoesNotDelayStop) {
  TempDir dir;
  const auto path = dir.path() / "flood.sock";
  CapturingLogger log("unix_input");
  UnixSocketInput input(socket_at(path), log);
  RecordingSink sink;
  FloodFilter filter(sink);
  Running running{input, filter};
  Flood flood(path, true);
  ASSERT_TRUE(flood.connected());
  ASSERT_TRUE(wait_for_text(sink, "{\"flood\":0}"));
  const auto asked = std::chrono::steady_clock::now();
  running.stop();
  const auto took = std::chrono::steady_clock::now() - asked;
  // The input allows itself about 100 ms; the margin is for slow (sanitized) builds.
  EXPECT_LT(took, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";
}

TEST(UnixSocketLimits, AcceptsALineUpToMaxLineAboveOneMebibyte) {
  TempDir dir;
  const auto path = dir.path() / "big.sock";
  CapturingLogger log("unix_input");
  auto options = socket_at(path);
  options.max_line = {4ULL << 20};
  UnixSocketInput input(options, log);
  RecordingSink sink;
  Running running{input, sink};
  const std::string big = "{\"big\":\"" + std::string((3U << 20) - 10, 'b') + "\"}";
  {
    auto client = connect_to(path);
    ASSERT_TRUE(client.valid());
    send_all(client.get(), big + "\n" + std::string(5U << 20, 'x') + "\n{\"after\":1}\n");
  }
  ASSERT_TRUE(sink.wait_for_lines(2));
  running.stop();
  const auto lines = sink.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text.size(), big.size());
  EXPECT_EQ(lines[0].text, big);
  EXPECT_EQ(lines[1].text, "{\"after\":1}");
  ASSERT_EQ(sink.bad().size(), 1u);  // the 5 MiB line
  EXPECT_EQ(sink.bad()[0].line, 2u);
}

}  // namespace
