// LineSplitter: the line rules shared by every local input.
#include "local_inputs/line_splitter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "recording_sink.hpp"

namespace {

using crosscut::local_inputs::LineSplitter;
using crosscut::local_inputs::testing::RecordingSink;

// Feeds `data` in pieces of `piece` bytes.
void feed_in_pieces(LineSplitter& s, const std::string& data, std::size_t piece) {
  for (std::size_t at = 0; at < data.size(); at += piece)
    s.feed(std::string_view(data).substr(at, piece));
}

TEST(LineSplitter, SameLinesWhateverTheChunking) {
  const std::string data = "{\"a\":1}\n{\"b\":2}\r\n\n\r\n{\"c\":3}\nlast";
  for (std::size_t piece : {1u, 2u, 3u, 7u, 64u}) {
    RecordingSink sink;
    LineSplitter s(sink, "in", 100);
    feed_in_pieces(s, data, piece);
    EXPECT_EQ(sink.texts("in"), (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}))
        << "piece " << piece;
    s.finish();
    const auto lines = sink.lines();
    ASSERT_EQ(lines.size(), 4u);
    // Numbers count the empty lines too.
    EXPECT_EQ(lines[0].line, 1u);
    EXPECT_EQ(lines[1].line, 2u);
    EXPECT_EQ(lines[2].line, 5u);
    EXPECT_EQ(lines[3].line, 6u);
    EXPECT_EQ(lines[3].text, "last");
    EXPECT_TRUE(sink.bad().empty());
  }
}

TEST(LineSplitter, OverlongLinesAreReportedOnceAndSkipped) {
  const std::string big(50, 'x');
  const std::string data = "ok1\n" + big + "\nok2\n" + std::string(10, 'y') + "\n" + big;
  for (std::size_t piece : {1u, 5u, 13u, 1000u}) {
    RecordingSink sink;
    LineSplitter s(sink, "in", 10);
    feed_in_pieces(s, data, piece);
    s.finish();
    EXPECT_EQ(sink.texts("in"), (std::vector<std::string>{"ok1", "ok2", std::string(10, 'y')}))
        << "piece " << piece;
    const auto bad = sink.bad();
    ASSERT_EQ(bad.size(), 2u) << "piece " << piece;
    EXPECT_EQ(bad[0].line, 2u);
    EXPECT_EQ(bad[1].line, 5u);
    EXPECT_NE(bad[0].reason.find("longer than"), std::string::npos);
    EXPECT_EQ(sink.lines()[1].line, 3u);
  }
}

TEST(LineSplitter, MaxLineCountsBytesBeforeTheCarriageReturn) {
  RecordingSink sink;
  LineSplitter s(sink, "in", 4);
  feed_in_pieces(s, "abcd\r\nabcde\r\nabcd\n", 1);
  EXPECT_EQ(sink.texts("in"), (std::vector<std::string>{"abcd", "abcd"}));
  ASSERT_EQ(sink.bad().size(), 1u);
  EXPECT_EQ(sink.bad()[0].line, 2u);
}

TEST(LineSplitter, BinaryGarbagePassesThroughUntouched) {
  std::string garbage;
  for (int i = 0; i < 256; ++i)
    if (i != '\n') garbage.push_back(static_cast<char>(i));
  RecordingSink sink;
  LineSplitter s(sink, "in", 1024);
  s.feed(garbage + "\n" + garbage + "\n");
  ASSERT_EQ(sink.texts("in"), (std::vector<std::string>{garbage, garbage}));
}

TEST(LineSplitter, SkipToNextLineDropsAPartialStartSilently) {
  RecordingSink sink;
  LineSplitter s(sink, "in", 100);
  s.skip_to_next_line();
  s.feed("tail of a line\nwhole\n");
  EXPECT_EQ(sink.texts("in"), (std::vector<std::string>{"whole"}));
  EXPECT_TRUE(sink.bad().empty());
}

TEST(LineSplitter, RestartDropsPendingAndNumbersFromOne) {
  RecordingSink sink;
  LineSplitter s(sink, "in", 100);
  s.feed("a\nb\npartial");
  s.restart();
  s.feed("c\n");
  const auto lines = sink.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2].text, "c");
  EXPECT_EQ(lines[2].line, 1u);
}

}  // namespace
