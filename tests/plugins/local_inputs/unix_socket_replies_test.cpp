// UnixSocketInput with a host that replies (sdk::RequestSink): replies in request order
// whatever order they are sent in, no connection waiting on another, bounded pipelining with a
// client that does not read, half-closed clients, a client that leaves unread (what it sent is
// still handled), and replies counted when their client left.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "local_inputs/unix_socket_input.hpp"
#include "recording_sink.hpp"
#include "socket_client.hpp"
#include "support/process.hpp"
#include "support/test_host.hpp"
#include "support/unix_client.hpp"

namespace {

using crosscut::local_inputs::UniqueFd;
using crosscut::local_inputs::UnixSocketInput;
using crosscut::local_inputs::UnixSocketOptions;
using crosscut::local_inputs::testing::connect_to;
using crosscut::local_inputs::testing::RecordingSink;
using crosscut::local_inputs::testing::Running;
using crosscut::local_inputs::testing::send_all;
using crosscut::testing::CapturingLogger;
using crosscut::testing::LineReader;
using crosscut::testing::TempDir;
namespace sdk = crosscut::sdk;

// Stands in for the host: every line is a request, answered with the line itself (padded to
// `reply_bytes` when set). A line starting with "hold" is answered only by release(), from the
// test's thread.
class EchoRequests : public RecordingSink, public sdk::RequestSink {
 public:
  explicit EchoRequests(std::size_t reply_bytes = 0) : reply_bytes_(reply_bytes) {}

  void on_request_line(std::string_view line, const sdk::InputPosition& where,
                       const std::shared_ptr<sdk::ReplyChannel>& replies) override {
    const std::uint64_t place = replies->reserve();
    std::string reply(line);
    if (reply.size() < reply_bytes_) reply.append(reply_bytes_ - reply.size(), '.');
    if (line.substr(0, 4) == "hold") {
      std::lock_guard lock(mu_);
      held_.push_back({replies, place, std::move(reply)});
    } else {
      replies->send(place, reply);
    }
    on_line(line, where);  // recorded, for the test to wait on
  }

  // Sends every held reply, the last held first: the channel must put them back in order.
  void release() {
    std::vector<Held> held;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
    }
    for (auto it = held.rbegin(); it != held.rend(); ++it) it->channel->send(it->place, it->reply);
  }

 private:
  struct Held {
    std::shared_ptr<sdk::ReplyChannel> channel;
    std::uint64_t place;
    std::string reply;
  };
  std::size_t reply_bytes_;
  std::mutex mu_;
  std::vector<Held> held_;
};

struct Fixture {
  explicit Fixture(std::size_t reply_bytes = 0)
      : sink(reply_bytes), input(options(dir.path() / "s.sock"), log) {}
  static UnixSocketOptions options(const std::filesystem::path& p) {
    UnixSocketOptions o;
    o.path = p.string();
    return o;
  }
  std::filesystem::path path() const { return dir.path() / "s.sock"; }

  TempDir dir;
  CapturingLogger log{"unix_input"};
  EchoRequests sink;
  UnixSocketInput input;
};

// Whether the input comes to count at least `n` replies as dropped: each probe connection
// is a turn of its loop.
bool wait_for_replies_dropped(Fixture& f, std::uint64_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (f.input.counters().replies_dropped < n) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    auto probe = connect_to(f.path());
    send_all(probe.get(), "probe\n");
    LineReader(probe.get()).next();
  }
  return true;
}

TEST(UnixSocketReplies, ComeInRequestOrderWhateverOrderTheyAreSentIn) {
  Fixture f;
  Running running{f.input, f.sink};
  auto fd = connect_to(f.path());
  ASSERT_TRUE(fd.valid()) << std::strerror(errno);
  send_all(fd.get(), "hold-1\nhold-2\nthree\nfour\n");
  ASSERT_TRUE(f.sink.wait_for_lines(4));
  LineReader replies(fd.get());
  // "three" and "four" were answered at once, but wait behind the two held before them.
  EXPECT_EQ(replies.next(std::chrono::milliseconds(100)), "");
  f.sink.release();
  EXPECT_EQ(replies.next(), "hold-1");
  EXPECT_EQ(replies.next(), "hold-2");
  EXPECT_EQ(replies.next(), "three");
  EXPECT_EQ(replies.next(), "four");
}

TEST(UnixSocketReplies, AConnectionWaitingForAReplyHoldsUpNoOther) {
  Fixture f;
  Running running{f.input, f.sink};
  auto waiting = connect_to(f.path());
  auto other = connect_to(f.path());
  ASSERT_TRUE(waiting.valid() && other.valid());
  send_all(waiting.get(), "hold-a\nafter-a\n");
  ASSERT_TRUE(f.sink.wait_for_lines(2));
  send_all(other.get(), "b\n");
  LineReader from_other(other.get());
  EXPECT_EQ(from_other.next(), "b");
  f.sink.release();
  LineReader from_waiting(waiting.get());
  EXPECT_EQ(from_waiting.next(), "hold-a");
  EXPECT_EQ(from_waiting.next(), "after-a");
}

TEST(UnixSocketReplies, ThousandsPipelinedOnOneConnectionComeBackInOrder) {
  Fixture f;
  Running running{f.input, f.sink};
  auto fd = connect_to(f.path());
  ASSERT_TRUE(fd.valid());
  constexpr int kRequests = 50000;
  // Sent while the replies are read: neither side may wait for the other to finish.
  std::thread sender([&] {
    std::string all;
    for (int i = 0; i < kRequests; ++i) all += "r" + std::to_string(i) + "\n";
    send_all(fd.get(), all);
  });
  LineReader replies(fd.get());
  int in_order = 0;
  for (int i = 0; i < kRequests; ++i) {
    if (replies.next() != "r" + std::to_string(i)) break;
    ++in_order;
  }
  sender.join();
  EXPECT_EQ(in_order, kRequests);
}

TEST(UnixSocketReplies, AClientThatDoesNotReadItsRepliesIsNotReadEitherAndOthersGoOn) {
  Fixture f(1024);      // 1 KiB replies to 100-byte requests: a few thousand fill what is owed
  std::jthread sender;  // joined after the input stopped: a failed assertion cannot hang it
  Running running{f.input, f.sink};
  auto silent = connect_to(f.path());
  ASSERT_TRUE(silent.valid());
  constexpr int kRequests = 40000;  // 40 MiB of replies: far beyond the 4 MiB the input holds
  std::atomic<bool> sent{false};
  sender = std::jthread([&] {
    std::string all;
    for (int i = 0; i < kRequests; ++i) {
      std::string line = "s" + std::to_string(i);
      all += line.append(100 - line.size(), '.') + "\n";
    }
    send_all(silent.get(), all);
    sent = true;
  });
  // The input stops reading the silent client: handled lines stop growing well short of all.
  ASSERT_TRUE(f.sink.wait_for_lines(1000));
  std::size_t handled = 0;
  for (;;) {
    const std::size_t before = f.sink.line_count();
    auto other = connect_to(f.path());
    ASSERT_TRUE(other.valid());
    send_all(other.get(), "ping\n");
    LineReader from_other(other.get());
    ASSERT_EQ(from_other.next().substr(0, 5), "ping.") << "another connection must be answered";
    handled = f.sink.line_count() - 1;
    if (handled == before) break;  // nothing more was read from the silent client meanwhile
  }
  EXPECT_LT(handled, static_cast<std::size_t>(kRequests) / 2);
  EXPECT_FALSE(sent.load());
  // Once it reads, everything is handled and answered, in order.
  LineReader replies(silent.get());
  int in_order = 0;
  for (int i = 0; i < kRequests; ++i) {
    const std::string reply = replies.next();
    if (reply.substr(0, reply.find('.')) != "s" + std::to_string(i)) break;
    ++in_order;
  }
  sender.join();
  EXPECT_EQ(in_order, kRequests);
}

TEST(UnixSocketReplies, WhatAClientSentBeforeLeavingUnreadIsStillHandled) {
  Fixture f(16384);  // 16 KiB replies: one read of 100-byte lines owes more than is held
  Running running{f.input, f.sink};
  auto fd = connect_to(f.path());
  ASSERT_TRUE(fd.valid());
  constexpr std::size_t kFirst = 300;  // 4.7 MiB of replies: reading this client pauses
  constexpr std::size_t kLines = 1200;
  std::string first;
  std::string rest;
  for (std::size_t i = 0; i < kLines; ++i) {
    std::string line = "s" + std::to_string(i);
    (i < kFirst ? first : rest) += line.append(100 - line.size(), '.') + "\n";
  }
  send_all(fd.get(), first);
  ASSERT_TRUE(f.sink.wait_for_lines(kFirst));
  send_all(fd.get(), rest);  // 90 KiB: the socket takes it all, and it is not read
  // Check that the input has paused: handled lines stop growing short of all of them.
  std::size_t pings = 0;
  for (std::size_t before = 0; f.sink.line_count() - pings != before;) {
    before = f.sink.line_count() - pings;
    auto other = connect_to(f.path());  // a turn of the loop, then look again
    send_all(other.get(), "ping\n");
    ASSERT_EQ(LineReader(other.get()).next().substr(0, 5), "ping.");
    ++pings;
  }
  ASSERT_LT(f.sink.line_count() - pings, kLines) << "the input should have paused this client";
  fd.reset();  // leaves without reading a reply
  // Its replies cannot be delivered any more, but every line it sent is handled.
  EXPECT_TRUE(f.sink.wait_for_lines(kLines + pings));
  EXPECT_TRUE(wait_for_replies_dropped(f, 1));
}

TEST(UnixSocketReplies, AClientThatShutsDownItsSendingSideStillGetsItsReplies) {
  Fixture f;
  Running running{f.input, f.sink};
  auto fd = connect_to(f.path());
  ASSERT_TRUE(fd.valid());
  send_all(fd.get(), "hold-1\ntwo\nunterminated");
  ASSERT_EQ(::shutdown(fd.get(), SHUT_WR), 0);
  // The unterminated last line counts: it is delivered once the client has ended.
  ASSERT_TRUE(f.sink.wait_for_lines(3));
  f.sink.release();
  LineReader replies(fd.get());
  EXPECT_EQ(replies.next(), "hold-1");
  EXPECT_EQ(replies.next(), "two");
  EXPECT_EQ(replies.next(), "unterminated");
  // Owed nothing more, the connection is closed.
  EXPECT_EQ(replies.next(), "");
  EXPECT_TRUE(replies.at_eof());
  EXPECT_EQ(f.input.counters().replies_dropped, 0U);
}

TEST(UnixSocketReplies, RepliesOwedToAClientThatLeftAreCounted) {
  Fixture f;
  Running running{f.input, f.sink};
  {
    auto fd = connect_to(f.path());
    ASSERT_TRUE(fd.valid());
    send_all(fd.get(), "hold-1\nhold-2\nthree\n");
    ASSERT_TRUE(f.sink.wait_for_lines(3));
  }  // closed both ways, without reading
  EXPECT_TRUE(wait_for_replies_dropped(f, 3));
  EXPECT_EQ(f.input.counters().replies_dropped, 3U);
  f.sink.release();  // too late: discarded, and not counted twice
  running.stop();
  EXPECT_EQ(f.input.counters().replies_dropped, 3U);
}

TEST(UnixSocketReplies, StopWritesTheRepliesAlreadyMade) {
  Fixture f;
  Running running{f.input, f.sink};
  auto fd = connect_to(f.path());
  ASSERT_TRUE(fd.valid());
  std::string all;
  for (int i = 0; i < 1000; ++i) all += "r" + std::to_string(i) + "\n";
  send_all(fd.get(), all);
  running.stop();  // without the client having read one reply
  LineReader replies(fd.get());
  int got = 0;
  while (replies.next() == "r" + std::to_string(got)) ++got;
  EXPECT_EQ(got, 1000);
  EXPECT_TRUE(replies.at_eof());
  EXPECT_EQ(f.input.counters().replies_dropped, 0U);
}

}  // namespace
