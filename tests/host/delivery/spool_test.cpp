// The disk spool: order, restart, torn tails, corruption, the lock, full and drop_oldest.
#include "delivery/spool.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace crosscut::delivery {
namespace {

using testing::TempDir;

SpoolSettings settings(const std::filesystem::path& dir, std::uint64_t segment = 0) {
  SpoolSettings s;
  s.dir = dir;
  s.max_bytes = 16 << 20;
  s.fsync = FsyncPolicy::never;
  s.segment_bytes = segment;
  return s;
}

std::uint64_t append(Spool& spool, const std::string& body) {
  std::uint64_t seq = 0;
  std::string error;
  EXPECT_EQ(spool.append(body, seq, error), Spool::Append::ok) << error;
  return seq;
}

std::vector<std::string> read_all(Spool& spool) {
  std::vector<std::string> out;
  std::uint64_t seq = 0;
  std::string body;
  while (spool.read_next(seq, body)) out.push_back(body);
  return out;
}

std::vector<std::filesystem::path> segments(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".seg") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string body(int i) {
  return "record-" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 50), 'x');
}

TEST(Spool, ReadsBackInAppendOrderAcrossSegments) {
  TempDir dir;
  Spool spool(settings(dir.path(), 4096));
  for (int i = 0; i < 500; ++i) EXPECT_EQ(append(spool, body(i)), static_cast<std::uint64_t>(i));
  EXPECT_GT(segments(dir.path()).size(), 3u);
  const auto got = read_all(spool);
  ASSERT_EQ(got.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], body(i));
  // Reading caught up: nothing more until the next append.
  std::uint64_t seq = 0;
  std::string b;
  EXPECT_FALSE(spool.read_next(seq, b));
  append(spool, "late");
  ASSERT_TRUE(spool.read_next(seq, b));
  EXPECT_EQ(b, "late");
  EXPECT_EQ(seq, 500u);
}

TEST(Spool, ReleasedSegmentsAreDeletedAndARestartResumesAtTheCursor) {
  TempDir dir;
  {
    Spool spool(settings(dir.path(), 4096));
    for (int i = 0; i < 300; ++i) append(spool, body(i));
    read_all(spool);
    spool.release_before(200, true);
    EXPECT_LT(spool.bytes(), 300u * 40u);
  }
  Spool again(settings(dir.path(), 4096));
  EXPECT_EQ(again.recovery().records, 100u);
  EXPECT_EQ(again.recovery().corrupt_bytes, 0u);
  const auto got = read_all(again);
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got.front(), body(200));
  EXPECT_EQ(got.back(), body(299));
  // New records follow the old ones.
  EXPECT_EQ(append(again, "next"), 300u);
}

TEST(Spool, ATornTailIsCutOffCountedAndTheRestDelivered) {
  TempDir dir;
  {
    Spool spool(settings(dir.path()));
    for (int i = 0; i < 10; ++i) append(spool, body(i));
  }
  const auto seg = segments(dir.path()).back();
  const auto size = std::filesystem::file_size(seg);
  std::filesystem::resize_file(seg, size - 7);  // the last frame loses its end: a crash mid-write
  Spool again(settings(dir.path()));
  EXPECT_EQ(again.recovery().records, 9u);
  EXPECT_GT(again.recovery().corrupt_bytes, 0u);
  EXPECT_EQ(again.recovery().corrupt_regions, 1u);
  EXPECT_NE(again.recovery().first_corruption.find(seg.filename().string()), std::string::npos);
  const auto got = read_all(again);
  ASSERT_EQ(got.size(), 9u);
  EXPECT_EQ(got.back(), body(8));
  EXPECT_EQ(append(again, "after"), 9u);  // numbering continues after the last intact record
  // The tail was cut off on disk: a third open finds nothing wrong.
  again.release_before(0, true);
}

TEST(Spool, CorruptionInTheMiddleIsSkippedAndLaterRecordsSurvive) {
  TempDir dir;
  {
    Spool spool(settings(dir.path()));
    for (int i = 0; i < 20; ++i) append(spool, body(i));
  }
  const auto seg = segments(dir.path()).front();
  {
    // Overwrite bytes inside the fifth record's body.
    const int fd = ::open(seg.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    std::uint64_t offset = 0;
    for (int i = 0; i < 4; ++i) offset += 20 + body(i).size();
    ASSERT_EQ(::pwrite(fd, "GARBAGE", 7, static_cast<off_t>(offset + 22)), 7);
    ::close(fd);
  }
  Spool again(settings(dir.path()));
  EXPECT_EQ(again.recovery().records, 19u);
  EXPECT_EQ(again.recovery().corrupt_regions, 1u);
  EXPECT_EQ(again.recovery().corrupt_bytes, 20 + body(4).size());
  const auto got = read_all(again);
  ASSERT_EQ(got.size(), 19u);
  EXPECT_EQ(got[3], body(3));
  EXPECT_EQ(got[4], body(5));
  EXPECT_EQ(got.back(), body(19));
}

TEST(Spool, ASegmentOfGarbageNeverCrashesAndIsReported) {
  TempDir dir;
  dir.write("00000000000000000000.seg", std::string(100000, 'C'));
  Spool spool(settings(dir.path()));
  EXPECT_EQ(spool.recovery().records, 0u);
  EXPECT_EQ(spool.recovery().corrupt_bytes, 100000u);
  EXPECT_TRUE(read_all(spool).empty());
  EXPECT_EQ(append(spool, "fresh"), 0u);
  EXPECT_EQ(read_all(spool), std::vector<std::string>{"fresh"});
}

TEST(Spool, AnUnreadableCursorRedeliversEverythingRatherThanLosingIt) {
  TempDir dir;
  {
    Spool spool(settings(dir.path()));
    for (int i = 0; i < 5; ++i) append(spool, body(i));
    read_all(spool);
    spool.release_before(3, true);
  }
  dir.write("cursor", "not a cursor");
  Spool again(settings(dir.path()));
  EXPECT_TRUE(again.recovery().cursor_unreadable);
  EXPECT_EQ(read_all(again).size(), 5u);
}

TEST(Spool, ASecondProcessOnTheSameDirectoryIsRefusedWithOneLine) {
  TempDir dir;
  Spool first(settings(dir.path()));
  try {
    Spool second(settings(dir.path()));
    FAIL() << "a second spool opened on a locked directory";
  } catch (const SpoolError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("is in use by another process (pid " + std::to_string(::getpid()) + ")"),
              std::string::npos)
        << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
}

TEST(Spool, FullIsReportedAndDropOldestFreesTheOldestSegment) {
  TempDir dir;
  SpoolSettings s = settings(dir.path(), 64 * 1024);
  s.max_bytes = 256 * 1024;
  Spool spool(s);
  const std::string big(1000, 'b');
  std::uint64_t seq = 0;
  std::string error;
  std::uint64_t accepted = 0;
  while (spool.append(big, seq, error) == Spool::Append::ok) ++accepted;
  EXPECT_GT(accepted, 200u);
  EXPECT_LE(spool.bytes(), s.max_bytes);
  std::uint64_t lost = 0;
  ASSERT_TRUE(spool.drop_oldest(lost));
  EXPECT_GT(lost, 0u);  // none was read: every record of the segment is lost
  EXPECT_EQ(spool.append(big, seq, error), Spool::Append::ok);
  // What is read starts after the dropped segment.
  std::string b;
  ASSERT_TRUE(spool.read_next(seq, b));
  EXPECT_EQ(seq, lost);
}

TEST(Spool, AnUncreatableDirectoryIsOneLine) {
  try {
    Spool spool(settings("/proc/crosscut-spool"));
    FAIL() << "opened a spool under /proc";
  } catch (const SpoolError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create spool directory /proc/crosscut-spool"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace crosscut::delivery

namespace crosscut::delivery {
namespace {

TEST(Spool, ARecordLargerThanTheSpoolIsRefusedNotWaitedFor) {
  testing::TempDir dir;
  SpoolSettings s = settings(dir.path());
  s.max_bytes = 1 << 20;
  Spool spool(s);
  std::uint64_t seq = 0;
  std::string error;
  EXPECT_EQ(spool.append(std::string(2 << 20, 'x'), seq, error), Spool::Append::failed);
  EXPECT_NE(error.find("does not fit in the spool"), std::string::npos) << error;
}

TEST(Spool, HostileNamesAndFilesInTheDirectoryNeverCrashAnOpen) {
  testing::TempDir dir;
  dir.write("99999999999999999999.seg", "x");  // beyond any sequence number
  dir.write("00000000000000000abc.seg", "x");
  std::filesystem::create_symlink("/dev/zero", dir.path() / "00000000000000000007.seg");
  ::mkfifo((dir.path() / "00000000000000000009.seg").c_str(), 0600);
  Spool spool(settings(dir.path()));
  EXPECT_EQ(spool.recovery().records, 0u);
  EXPECT_EQ(spool.recovery().corrupt_regions, 2u);  // the symlink and the FIFO, reported
  EXPECT_EQ(append(spool, "fine"), 0u);
}

}  // namespace
}  // namespace crosscut::delivery
