// FdLineInput (the `stdin` input) over a pipe: end of file, large volumes, stop while blocked.
#include "local_inputs/fd_line_input.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <stop_token>
#include <string>
#include <thread>

#include "local_inputs/unique_fd.hpp"
#include "recording_sink.hpp"

namespace {

using crosscut::local_inputs::FdLineInput;
using crosscut::local_inputs::UniqueFd;
using crosscut::local_inputs::testing::RecordingSink;

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

void write_all(int fd, const std::string& data) {
  for (std::size_t at = 0; at < data.size();) {
    const auto n = ::write(fd, data.data() + at, data.size() - at);
    ASSERT_GT(n, 0);
    at += static_cast<std::size_t>(n);
  }
}

TEST(FdLineInput, DeliversEveryLineAndReturnsAtEndOfFile) {
  Pipe pipe;
  RecordingSink sink;
  FdLineInput input(pipe.read.get(), "stdin", 1 << 20);
  constexpr int kLines = 200'000;
  std::thread writer([&] {
    std::string chunk;
    for (int i = 1; i <= kLines; ++i) {
      chunk += "{\"event\":\"message\",\"n\":" + std::to_string(i) + "}\n";
      if (chunk.size() > 10'000) {
        write_all(pipe.write.get(), chunk);
        chunk.clear();
      }
    }
    write_all(pipe.write.get(), chunk + "{\"unterminated\":true}");
    pipe.write.reset();
  });
  input.run(sink, std::stop_token{});
  writer.join();
  const auto lines = sink.lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kLines) + 1);
  for (int i = 0; i < kLines; ++i) {
    ASSERT_EQ(lines[i].line, static_cast<std::uint64_t>(i) + 1);
    ASSERT_EQ(lines[i].text, "{\"event\":\"message\",\"n\":" + std::to_string(i + 1) + "}");
    ASSERT_EQ(lines[i].input, "stdin");
  }
  EXPECT_EQ(lines.back().text, "{\"unterminated\":true}");
}

TEST(FdLineInput, ReturnsOnStopWhileBlockedOnAnOpenPipe) {
  Pipe pipe;
  RecordingSink sink;
  FdLineInput input(pipe.read.get(), "stdin", 1 << 20);
  std::jthread runner([&](std::stop_token stop) { input.run(sink, stop); });
  write_all(pipe.write.get(), "{\"a\":1}\n{\"b\":");
  ASSERT_TRUE(sink.wait_for_lines(1));
  runner.request_stop();
  runner.join();  // would hang if the read blocked past the stop request
  // The partial line is dropped on stop; the writer end is still open.
  EXPECT_EQ(sink.texts("stdin"), (std::vector<std::string>{"{\"a\":1}"}));
}

TEST(FdLineInput, ReturnsAtOnceWhenStoppedBeforeRun) {
  Pipe pipe;
  RecordingSink sink;
  FdLineInput input(pipe.read.get(), "stdin", 1 << 20);
  std::stop_source source;
  source.request_stop();
  input.run(sink, source.get_token());
  EXPECT_EQ(sink.line_count(), 0u);
}

TEST(FdLineInput, AReadErrorThrows) {
  RecordingSink sink;
  Pipe pipe;
  // A write-only descriptor cannot be read: the input reports it rather than spinning.
  FdLineInput input(pipe.write.get(), "stdin", 1 << 20);
  pipe.read.reset();
  EXPECT_THROW(input.run(sink, std::stop_token{}), std::system_error);
}

TEST(FdLineInput, AcceptsALineUpToMaxLineAboveOneMebibyte) {
  Pipe pipe;
  RecordingSink sink;
  FdLineInput input(pipe.read.get(), "stdin", std::size_t{4} << 20);
  const std::string big = "{\"big\":\"" + std::string((std::size_t{3} << 20) - 10, 'b') + "\"}";
  std::thread writer([&] {
    write_all(pipe.write.get(), big + "\n" + std::string(std::size_t{5} << 20, 'x') + "\n{}\n");
    pipe.write.reset();
  });
  input.run(sink, std::stop_token{});
  writer.join();
  EXPECT_EQ(sink.texts("stdin"), (std::vector<std::string>{big, "{}"}));
  ASSERT_EQ(sink.bad().size(), 1u);  // 5 MiB is over max_line
  EXPECT_EQ(sink.bad()[0].line, 2u);
}

}  // namespace
