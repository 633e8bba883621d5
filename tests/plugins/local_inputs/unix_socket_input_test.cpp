// UnixSocketInput: concurrent clients, bad lines, socket mode, stale and live sockets, cleanup,
// refusal over max_clients.
#include "local_inputs/unix_socket_input.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "local_inputs/unique_fd.hpp"
#include "recording_sink.hpp"
#include "socket_client.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"

namespace {

using crosscut::local_inputs::UniqueFd;
using crosscut::local_inputs::UnixSocketInput;
using crosscut::local_inputs::UnixSocketOptions;
using crosscut::local_inputs::testing::address_of;
using crosscut::local_inputs::testing::closed_by_server;
using crosscut::local_inputs::testing::connect_to;
using crosscut::local_inputs::testing::RecordingSink;
using crosscut::local_inputs::testing::Running;
using crosscut::local_inputs::testing::send_all;
using crosscut::testing::CapturingLogger;
using crosscut::testing::TempDir;

UnixSocketOptions socket_at(const std::filesystem::path& p) {
  UnixSocketOptions o;
  o.path = p.string();
  return o;
}

TEST(UnixSocketInput, ServesManyClientsAtOnceEachInOrder) {
  TempDir dir;
  const auto path = dir.path() / "events.sock";
  CapturingLogger log("unix_input");
  UnixSocketInput input(socket_at(path), log);
  RecordingSink sink;
  Running running{input, sink};

  constexpr int kClients = 5, kLines = 4000;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto fd = connect_to(path);
      ASSERT_TRUE(fd.valid()) << std::strerror(errno);
      std::string all;
      for (int i = 1; i <= kLines; ++i)
        all += "{\"client\":" + std::to_string(c) + ",\"seq\":" + std::to_string(i) + "}\n";
      // Odd-sized pieces, so lines are split across reads and clients interleave.
      std::mt19937 random(static_cast<unsigned>(c));
      for (std::size_t at = 0; at < all.size();) {
        const std::size_t piece = 1 + random() % 700;
        send_all(fd.get(), std::string_view(all).substr(at, piece));
        at += piece;
      }
    });
  }
  for (auto& t : clients) t.join();
  ASSERT_TRUE(sink.wait_for_lines(kClients * kLines));
  running.stop();

  std::map<std::string, std::vector<crosscut::local_inputs::testing::SeenLine>> by_input;
  for (auto& l : sink.lines()) by_input[l.input].push_back(l);
  ASSERT_EQ(by_input.size(), static_cast<std::size_t>(kClients));
  std::vector<bool> seen_client(kClients, false);
  for (const auto& [name, lines] : by_input) {
    EXPECT_EQ(name.rfind("unix:" + path.string() + "#", 0), 0u) << name;
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(kLines));
    const int c = lines[0].text[10] - '0';
    ASSERT_FALSE(seen_client[c]);
    seen_client[c] = true;
    for (int i = 0; i < kLines; ++i) {
      ASSERT_EQ(lines[i].text,
                "{\"client\":" + std::to_string(c) + ",\"seq\":" + std::to_string(i + 1) + "}");
      ASSERT_EQ(lines[i].line, static_cast<std::uint64_t>(i + 1));
    }
  }
  EXPECT_TRUE(sink.bad().empty());
}

TEST(UnixSocketInput, ReportsOverlongLinesAndPassesGarbageOn) {
  TempDir dir;
  const auto path = dir.path() / "e.sock";
  CapturingLogger log("unix_input");
  auto options = socket_at(path);
  options.max_line = {64};
  UnixSocketInput input(options, log);
  RecordingSink sink;
  Running running{input, sink};
  {
    auto fd = connect_to(path);
    ASSERT_TRUE(fd.valid());
    const std::string garbage("\x00\xff\xfe{\x01\r", 6);
    send_all(fd.get(), garbage + "\n" + std::string(100'000, 'x') + "\n{\"ok\":1}\r\n{\"last\":");
    send_all(fd.get(), "true}");
  }  // disconnects with an unterminated last line
  ASSERT_TRUE(sink.wait_for_lines(3));
  running.stop();
  const auto lines = sink.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, std::string("\x00\xff\xfe{\x01", 5));
  EXPECT_EQ(lines[1].text, "{\"ok\":1}");
  EXPECT_EQ(lines[1].line, 3u);
  EXPECT_EQ(lines[2].text, "{\"last\":true}");
  const auto bad = sink.bad();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].line, 2u);
  EXPECT_EQ(bad[0].input, lines[0].input);
}

TEST(UnixSocketInput, SocketHasTheConfiguredModeAndIsRemovedAfterStop) {
  TempDir dir;
  for (mode_t mode : {mode_t{0660}, mode_t{0600}}) {
    const auto path = dir.path() / "m.sock";
    CapturingLogger log("unix_input");
    auto options = socket_at(path);
    options.mode = mode;
    UnixSocketInput input(options, log);
    struct stat st {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, mode);
    RecordingSink sink;
    Running running{input, sink};
    running.stop();
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path)));
  }
}

TEST(UnixSocketInput, RemovesTheSocketWhenDestroyedWithoutRunning) {
  TempDir dir;
  const auto path = dir.path() / "d.sock";
  CapturingLogger log("unix_input");
  { UnixSocketInput input(socket_at(path), log); }
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path)));
}

TEST(UnixSocketInput, ReplacesAStaleSocket) {
  TempDir dir;
  const auto path = dir.path() / "stale.sock";
  {
    // A socket file whose process is gone: bound, never unlinked.
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    const auto a = address_of(path);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
  }
  ASSERT_TRUE(std::filesystem::is_socket(path));
  CapturingLogger log("unix_input");
  UnixSocketInput input(socket_at(path), log);
  RecordingSink sink;
  Running running{input, sink};
  {
    auto fd = connect_to(path);
    ASSERT_TRUE(fd.valid());
    send_all(fd.get(), "{\"a\":1}\n");
  }
  ASSERT_TRUE(sink.wait_for_lines(1));
  running.stop();
}

TEST(UnixSocketInput, RefusesALiveSocketAndARegularFile) {
  TempDir dir;
  const auto path = dir.path() / "live.sock";
  CapturingLogger log("unix_input");
  UnixSocketInput owner(socket_at(path), log);
  try {
    UnixSocketInput second(socket_at(path), log);
    FAIL() << "a second input took a live socket";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
  // The refusal left the owner's socket alone.
  EXPECT_TRUE(connect_to(path).valid());

  const auto file = dir.write("plain", "data");
  try {
    UnixSocketInput input(socket_at(file), log);
    FAIL() << "a regular file was replaced";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a socket"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(file));
}

TEST(UnixSocketInput, StopsWithIdleClientsConnected) {
  TempDir dir;
  const auto path = dir.path() / "idle.sock";
  CapturingLogger log("unix_input");
  UnixSocketInput input(socket_at(path), log);
  RecordingSink sink;
  Running running{input, sink};
  auto a = connect_to(path);
  auto b = connect_to(path);
  ASSERT_TRUE(a.valid() && b.valid());
  send_all(a.get(), "{\"a\":1}\n{\"partial\":");
  ASSERT_TRUE(sink.wait_for_lines(1));
  running.stop();
  EXPECT_EQ(sink.line_count(), 1u);
  // The server side is closed: the client reads end of file.
  char c;
  EXPECT_EQ(::recv(a.get(), &c, 1, 0), 0);
}

// Connections over max_clients are accepted and closed at once (not left in the backlog, where
// their lines would wait unread), counted, and reported in one warning per minute at most.
TEST(UnixSocketInput, ClientsOverMaxClientsAreRefusedAtOnceAndCounted) {
  TempDir dir;
  const auto path = dir.path() / "two.sock";
  CapturingLogger log("unix_input");
  auto options = socket_at(path);
  options.max_clients = 2;
  UnixSocketInput input(options, log);
  RecordingSink sink;
  Running running{input, sink};
  auto first = connect_to(path);
  auto second = connect_to(path);
  ASSERT_TRUE(first.valid() && second.valid());
  send_all(first.get(), "{\"from\":1}\n");
  send_all(second.get(), "{\"from\":2}\n");
  ASSERT_TRUE(sink.wait_for_lines(2));

  for (int extra = 0; extra < 2; ++extra) {
    auto over = connect_to(path);
    ASSERT_TRUE(over.valid()) << "connect() itself succeeds: the refusal comes after accept";
    EXPECT_TRUE(closed_by_server(over.get())) << "client " << extra + 3 << " was not refused";
  }
  // The two served clients are unaffected.
  send_all(first.get(), "{\"from\":1,\"again\":true}\n");
  ASSERT_TRUE(sink.wait_for_lines(3));
  running.stop();

  const auto counters = input.counters();
  EXPECT_EQ(counters.served, 2u);
  EXPECT_EQ(counters.refused, 2u);
  EXPECT_EQ(counters.closed_idle, 0u);
  int refusal_warnings = 0;
  for (const auto& r : log.records())
    if (r.level == crosscut::sdk::Level::warning &&
        r.message.find("max_clients") != std::string::npos)
      ++refusal_warnings;
  EXPECT_EQ(refusal_warnings, 1) << "refusals within a minute are reported once";
  EXPECT_EQ(sink.texts("unix:" + path.string() + "#1").size(), 2u);
}

TEST(UnixSocketInput, RefusesAPathTooLongForSunPath) {
  CapturingLogger log("unix_input");
  EXPECT_THROW(UnixSocketInput(socket_at("/tmp/" + std::string(200, 'p')), log),
               std::runtime_error);
}

}  // namespace
