// The disk spool of one record sink: an append-only log of checksummed frames in segment files,
// so that records accepted but not yet delivered survive a restart, a crash or a power loss.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace crosscut::delivery {

enum class FsyncPolicy : std::uint8_t {
  always,  // every append is on disk before it returns (slow: one fdatasync per record)
  batch,   // the delivery thread syncs what was appended before it hands it to the sink
  never,   // the operating system decides; a process crash loses nothing, a power loss may
};

struct SpoolSettings {
  std::filesystem::path dir;
  std::uint64_t max_bytes = 256ULL << 20;
  FsyncPolicy fsync = FsyncPolicy::batch;
  // Size at which a segment is closed and the next one begun; 0: max_bytes / 8 within
  // [64 KiB, 32 MiB]. Delivered records leave the spool a segment at a time.
  std::uint64_t segment_bytes = 0;
};

// The spool cannot be opened (directory not creatable, locked by another process) or read.
class SpoolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What opening found from an earlier run.
struct SpoolRecovery {
  std::uint64_t records = 0;  // left undelivered: delivered first, in order
  std::uint64_t bytes = 0;
  std::uint64_t corrupt_bytes = 0;  // skipped: failed checksums, broken framing, a torn tail
  std::uint64_t corrupt_regions = 0;
  std::string first_corruption;    // "<file> at offset <n>" of the first one
  bool cursor_unreadable = false;  // everything still in the spool is delivered again
};

// Not thread-safe: the owner serialises every call. Records are numbered in append order
// (`seq`); release_before(n) says every record below n was delivered.
//
// Layout: `<dir>/lock` (flock'd by the process that has the spool open, holding its pid),
// `<dir>/cursor` (the first undelivered seq, with a checksum; rewritten by rename) and
// segments `<dir>/<first seq>.seg` of frames: u32 magic, u32 length, u64 seq, u32 CRC-32C of
// seq and body, then the body.
class Spool {
 public:
  // Creates the directory if needed, takes the lock, scans what an earlier run left (torn tails
  // are cut off, corrupt regions skipped and counted). Throws SpoolError with one line.
  explicit Spool(SpoolSettings settings);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  enum class Append : std::uint8_t { ok, full, failed };
  // Writes one frame (write(2) before it returns; fdatasync too under `always`). `full`: it
  // would exceed max_bytes; `failed`: an I/O error, described in `error`.
  Append append(std::string_view body, std::uint64_t& seq, std::string& error);

  // Deletes the oldest segment that is not being written; `lost` is how many of its records were
  // not yet read. False when there is no such segment.
  bool drop_oldest(std::uint64_t& lost);

  // The next record not yet read, in seq order; false when every appended record was read
  // (under `batch`: every record made durable so far).
  bool read_next(std::uint64_t& seq, std::string& body);

  // Every record below `watermark` is delivered: deletes segments wholly below it and records
  // the watermark in the cursor (at most every 100 ms unless `now` is set, or a segment went).
  void release_before(std::uint64_t watermark, bool now = false);

  // The `batch` policy's group commit, in two steps so that the slow part holds no lock:
  // begin_sync() returns a descriptor to fdatasync (-1: nothing to sync) and the seq up to
  // which that makes records durable; end_sync(upto) then lets read_next() return them.
  int begin_sync(std::uint64_t& upto);
  void end_sync(std::uint64_t upto) noexcept { durable_seq_ = std::max(durable_seq_, upto); }
  void mark_unsynced() noexcept { unsynced_ = true; }

  std::uint64_t bytes() const noexcept { return total_bytes_; }
  std::uint64_t read_seq() const noexcept { return read_seq_; }  // next to be read
  std::uint64_t end_seq() const noexcept { return next_seq_; }   // next to be appended
  // Records on disk and not yet released (some may be delivered out of order).
  std::uint64_t unreleased() const noexcept;
  // The lowest seq still on disk (end_seq() when the spool is empty).
  std::uint64_t first_seq() const noexcept {
    return segments_.empty() ? next_seq_ : segments_.front().first_seq;
  }
  const SpoolRecovery& recovery() const noexcept { return recovery_; }
  const SpoolSettings& settings() const noexcept { return settings_; }

 private:
  struct Segment {
    std::uint64_t first_seq = 0;
    std::uint64_t end_seq = 0;  // one past its last record (the active one: next_seq_)
    std::uint64_t size = 0;
    std::filesystem::path path;
  };

  void lock_directory();
  void recover();
  std::uint64_t scan_segment(Segment& s, std::uint64_t min_seq);
  void read_cursor();
  void write_cursor();
  void roll();
  bool open_segment_for_append(std::string& error);
  void remove_front();
  void close_reader();
  // Makes `want` bytes readable at read_pos_; `available`: bytes of the segment from there.
  bool fill_reader(std::size_t want, std::size_t available);

  const SpoolSettings settings_;
  std::uint64_t segment_bytes_ = 0;
  int lock_fd_ = -1;
  std::deque<Segment> segments_;  // oldest first
  int write_fd_ = -1;             // the back segment, while it takes appends
  std::uint64_t next_seq_ = 0;
  std::uint64_t written_from_ = 0;  // the first seq this process appended
  std::uint64_t durable_seq_ = 0;   // under `batch`: records below it are synced
  std::uint64_t total_bytes_ = 0;
  bool unsynced_ = false;
  std::string frame_;  // scratch for append

  // Reader: the segment it is in (by first seq), its descriptor and a window of its bytes.
  std::uint64_t read_seq_ = 0;
  std::uint64_t read_segment_ = 0;
  bool reader_started_ = false;
  int read_fd_ = -1;
  std::uint64_t read_offset_ = 0;  // file offset of read_buf_[read_pos_]
  std::string read_buf_;
  std::size_t read_pos_ = 0;

  std::uint64_t released_ = 0;
  std::uint64_t cursor_written_ = 0;
  std::chrono::steady_clock::time_point cursor_time_{};
  SpoolRecovery recovery_;
};

}  // namespace crosscut::delivery
