#include "delivery/spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <vector>

#include "delivery/crc32c.hpp"

namespace crosscut::delivery {
namespace {

constexpr std::uint32_t kMagic = 0x31534343;  // "CCS1" in file order
constexpr std::size_t kHeader = 20;           // magic, length, seq, checksum
constexpr std::uint32_t kMaxBody = 64U << 20;
constexpr std::size_t kReadChunk = 256 * 1024;
constexpr auto kCursorInterval = std::chrono::milliseconds(100);
constexpr const char* kSegmentSuffix = ".seg";
// Sequence numbers stay far below the wrap: a frame or cursor claiming more is damage.
constexpr std::uint64_t kMaxSeq = std::uint64_t{1} << 62;

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

enum class Parse : std::uint8_t { ok, need_more, invalid };

std::uint32_t checksum(std::uint64_t seq, std::string_view body) {
  char s[8];
  std::memcpy(s, &seq, 8);
  return crc32c(body, crc32c(std::string_view(s, 8)));
}

// Is there a whole, intact frame at `p` (n bytes available)? Frames numbered `trusted_from` or
// above skip the checksum: this process wrote them and reads them back from the page cache.
Parse parse_frame(const char* p, std::size_t n, std::uint64_t& seq, std::uint32_t& length,
                  std::uint64_t trusted_from = UINT64_MAX) {
  if (n < kHeader) return Parse::need_more;
  std::uint32_t magic;
  std::uint32_t crc;
  std::memcpy(&magic, p, 4);
  std::memcpy(&length, p + 4, 4);
  std::memcpy(&seq, p + 8, 8);
  std::memcpy(&crc, p + 16, 4);
  if (magic != kMagic || length > kMaxBody || seq >= kMaxSeq) return Parse::invalid;
  if (n < kHeader + length) return Parse::need_more;
  if (seq >= trusted_from) return Parse::ok;
  return checksum(seq, std::string_view(p + kHeader, length)) == crc ? Parse::ok : Parse::invalid;
}

// The next offset at or after `from` holding an intact frame numbered `min_seq` or above, or
// npos.
std::size_t resync(const std::string& data, std::size_t from, std::uint64_t min_seq) {
  while (from + kHeader <= data.size()) {
    from = data.find('C', from);  // the magic's first byte
    if (from == std::string::npos) break;
    std::uint64_t seq = 0;
    std::uint32_t length = 0;
    if (parse_frame(data.data() + from, data.size() - from, seq, length) == Parse::ok &&
        seq >= min_seq)
      return from;
    ++from;
  }
  return std::string::npos;
}

// Reads a regular file (never a FIFO, a device or a symlink planted in the directory).
bool read_whole(const std::filesystem::path& path, std::string& out, int& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    error = errno == ELOOP ? EINVAL : errno;  // a symlink: not a file of ours
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = EINVAL;
    ::close(fd);
    return false;
  }
  out.clear();
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      error = errno;
      ::close(fd);
      return false;
    }
  }
  ::close(fd);
  return true;
}

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= static_cast<std::size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else {
      if (w == 0) errno = EIO;
      return false;
    }
  }
  return true;
}

std::string segment_name(std::uint64_t first_seq) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu%s", static_cast<unsigned long long>(first_seq),
                kSegmentSuffix);
  return name;
}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

Spool::Spool(SpoolSettings settings) : settings_(std::move(settings)) {
  segment_bytes_ = settings_.segment_bytes != 0
                       ? settings_.segment_bytes
                       : std::clamp<std::uint64_t>(settings_.max_bytes / 8, 64 * 1024, 32 << 20);
  std::error_code ec;
  std::filesystem::create_directories(settings_.dir, ec);
  if (ec)
    throw SpoolError("cannot create spool directory " + settings_.dir.string() + ": " +
                     ec.message());
  lock_directory();
  try {
    recover();
  } catch (...) {
    ::close(lock_fd_);
    throw;
  }
}

Spool::~Spool() {
  if (write_fd_ >= 0) {
    if (settings_.fsync != FsyncPolicy::never) ::fdatasync(write_fd_);
    ::close(write_fd_);
  }
  close_reader();
  if (released_ != cursor_written_) write_cursor();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void Spool::lock_directory() {
  const auto path = settings_.dir / "lock";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_fd_ < 0) throw SpoolError("cannot open " + path.string() + ": " + errno_text(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char pid[32] = {};
    const ssize_t n = ::pread(lock_fd_, pid, sizeof pid - 1, 0);
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (error == EWOULDBLOCK) {
      std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "unknown";
      holder.erase(std::remove(holder.begin(), holder.end(), '\n'), holder.end());
      throw SpoolError("spool directory " + settings_.dir.string() +
                       " is in use by another process (pid " + holder + ")");
    }
    throw SpoolError("cannot lock " + path.string() + ": " + errno_text(error));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message a second process prints; the lock itself holds.
  }
}

void Spool::read_cursor() {
  std::string data;
  int error = 0;
  const auto path = settings_.dir / "cursor";
  if (!read_whole(path, data, error)) {
    if (error != ENOENT) recovery_.cursor_unreadable = true;
    return;
  }
  std::uint64_t seq = 0;
  std::uint32_t crc = 0;
  if (data.size() != 12) {
    recovery_.cursor_unreadable = true;
    return;
  }
  std::memcpy(&seq, data.data(), 8);
  std::memcpy(&crc, data.data() + 8, 4);
  if (crc32c(std::string_view(data.data(), 8)) != crc || seq >= kMaxSeq) {
    recovery_.cursor_unreadable = true;
    return;
  }
  released_ = cursor_written_ = seq;
}

void Spool::write_cursor() {
  char data[12];
  std::memcpy(data, &released_, 8);
  const std::uint32_t crc = crc32c(std::string_view(data, 8));
  std::memcpy(data + 8, &crc, 4);
  const auto tmp = settings_.dir / "cursor.tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return;  // a stale cursor only means redelivery after a restart
  const bool ok = write_all(fd, data, sizeof data) &&
                  (settings_.fsync == FsyncPolicy::never || ::fdatasync(fd) == 0);
  ::close(fd);
  if (ok && ::rename(tmp.c_str(), (settings_.dir / "cursor").c_str()) == 0) {
    cursor_written_ = released_;
    cursor_time_ = std::chrono::steady_clock::now();
  }
}

void Spool::recover() {
  read_cursor();
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> found;
  std::error_code ec;
  std::filesystem::directory_iterator it(settings_.dir, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::uint64_t first = 0;
    const auto [end, parse_error] = std::from_chars(name.data(), name.data() + 20, first);
    if (name.size() != 20 + std::strlen(kSegmentSuffix) || !name.ends_with(kSegmentSuffix) ||
        parse_error != std::errc() || end != name.data() + 20 || first >= kMaxSeq)
      continue;
    found.emplace_back(first, it->path());
  }
  if (ec)
    throw SpoolError("cannot read spool directory " + settings_.dir.string() + ": " + ec.message());
  std::sort(found.begin(), found.end());

  std::uint64_t last_seq = 0;
  bool any = false;
  for (std::size_t i = 0; i < found.size(); ++i) {
    Segment s;
    s.first_seq = found[i].first;
    s.path = found[i].second;
    const std::uint64_t records = scan_segment(s, any ? last_seq + 1 : 0);
    if (records == 0 || s.end_seq <= released_) {
      std::filesystem::remove(s.path, ec);
      continue;
    }
    any = true;
    last_seq = s.end_seq - 1;
    total_bytes_ += s.size;
    segments_.push_back(std::move(s));
  }
  // A cursor beyond every record (segments deleted by hand) restarts numbering after it.
  released_ = std::min<std::uint64_t>(released_, kMaxSeq);
  next_seq_ = std::max(any ? last_seq + 1 : 0, released_);
  if (!segments_.empty()) released_ = std::max(released_, segments_.front().first_seq);
  read_seq_ = released_;
  released_ = std::min(released_, next_seq_);
  written_from_ = next_seq_;
  durable_seq_ = next_seq_;  // what an earlier run left is as durable as it will get
}

std::uint64_t Spool::scan_segment(Segment& s, std::uint64_t min_seq) {
  std::string data;
  int error = 0;
  if (!read_whole(s.path, data, error)) {
    if (error != EINVAL)
      throw SpoolError("cannot read spool segment " + s.path.string() + ": " + errno_text(error));
    // Not a regular file: nothing of ours, never read; reported like damage.
    ++recovery_.corrupt_regions;
    if (recovery_.first_corruption.empty())
      recovery_.first_corruption = s.path.string() + " (not a regular file)";
    s.size = 0;
    s.end_seq = s.first_seq;
    return 0;
  }
  // Segment names are the first seq written to them: numbering only grows.
  min_seq = std::max(min_seq, s.first_seq);
  std::uint64_t records = 0;
  std::uint64_t last_seq = 0;
  std::size_t pos = 0;
  std::size_t good_end = 0;
  auto note = [&](std::size_t from, std::size_t to) {
    recovery_.corrupt_bytes += to - from;
    ++recovery_.corrupt_regions;
    if (recovery_.first_corruption.empty())
      recovery_.first_corruption = s.path.string() + " at offset " + std::to_string(from);
  };
  while (pos < data.size()) {
    std::uint64_t seq = 0;
    std::uint32_t length = 0;
    const Parse p = parse_frame(data.data() + pos, data.size() - pos, seq, length);
    if (p == Parse::ok && seq >= min_seq) {
      if (records == 0) s.first_seq = seq;
      if (seq >= released_) {
        ++recovery_.records;
        recovery_.bytes += kHeader + length;
      }
      last_seq = seq;
      min_seq = seq + 1;
      ++records;
      pos += kHeader + length;
      good_end = pos;
      continue;
    }
    const std::size_t next = resync(data, pos + 1, min_seq);
    if (next == std::string::npos) {
      note(pos, data.size());
      break;
    }
    note(pos, next);
    pos = next;
  }
  if (good_end < data.size()) {
    // A torn or garbled tail: cut off, so that reading and appending never meet it again.
    if (::truncate(s.path.c_str(), static_cast<off_t>(good_end)) != 0)
      throw SpoolError("cannot repair spool segment " + s.path.string() + ": " + errno_text(errno));
  }
  s.size = good_end;
  s.end_seq = records == 0 ? s.first_seq : last_seq + 1;
  return records;
}

bool Spool::open_segment_for_append(std::string& error) {
  Segment s;
  s.first_seq = next_seq_;
  s.end_seq = next_seq_;
  s.path = settings_.dir / segment_name(next_seq_);
  write_fd_ = ::open(s.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
  if (write_fd_ < 0) {
    error = "cannot create " + s.path.string() + ": " + errno_text(errno);
    return false;
  }
  if (settings_.fsync != FsyncPolicy::never) sync_directory(settings_.dir);
  segments_.push_back(std::move(s));
  return true;
}

void Spool::roll() {
  if (write_fd_ < 0) return;
  if (settings_.fsync != FsyncPolicy::never) ::fdatasync(write_fd_);
  ::close(write_fd_);
  write_fd_ = -1;
  unsynced_ = false;
  durable_seq_ = next_seq_;
}

Spool::Append Spool::append(std::string_view body, std::uint64_t& seq, std::string& error) {
  if (body.size() > kMaxBody) {
    error = "record of " + std::to_string(body.size()) + " bytes exceeds the spool's frame limit";
    return Append::failed;
  }
  const std::uint64_t frame_bytes = kHeader + body.size();
  if (frame_bytes > settings_.max_bytes) {
    error = "record of " + std::to_string(body.size()) + " bytes does not fit in the spool (" +
            std::to_string(settings_.max_bytes) + " bytes)";
    return Append::failed;
  }
  if (total_bytes_ + frame_bytes > settings_.max_bytes) {
    // Close the segment being written, so that once delivered it can go (or be dropped).
    if (write_fd_ >= 0 && segments_.back().size > 0) roll();
    return Append::full;
  }
  if (write_fd_ >= 0 && segments_.back().size + frame_bytes > segment_bytes_ &&
      segments_.back().size > 0)
    roll();
  if (write_fd_ < 0 && !open_segment_for_append(error)) return Append::failed;

  seq = next_seq_;
  const std::uint32_t length = static_cast<std::uint32_t>(body.size());
  const std::uint32_t crc = checksum(seq, body);
  frame_.resize(kHeader);
  std::memcpy(frame_.data(), &kMagic, 4);
  std::memcpy(frame_.data() + 4, &length, 4);
  std::memcpy(frame_.data() + 8, &seq, 8);
  std::memcpy(frame_.data() + 16, &crc, 4);
  frame_.append(body);
  Segment& s = segments_.back();
  if (!write_all(write_fd_, frame_.data(), frame_.size())) {
    const int e = errno;
    error = "cannot write " + s.path.string() + ": " + errno_text(e);
    // Cut a partial frame off, so that the next append starts on a frame boundary.
    if (::ftruncate(write_fd_, static_cast<off_t>(s.size)) != 0) roll();
    return Append::failed;
  }
  if (settings_.fsync == FsyncPolicy::always) {
    if (::fdatasync(write_fd_) != 0) {
      error = "cannot sync " + s.path.string() + ": " + errno_text(errno);
      ::ftruncate(write_fd_, static_cast<off_t>(s.size));
      return Append::failed;
    }
  } else {
    unsynced_ = true;
  }
  s.size += frame_.size();
  total_bytes_ += frame_.size();
  ++next_seq_;
  s.end_seq = next_seq_;
  return Append::ok;
}

std::uint64_t Spool::unreleased() const noexcept {
  std::uint64_t n = 0;
  for (const auto& s : segments_) {
    const std::uint64_t from = std::max(s.first_seq, released_);
    if (s.end_seq > from) n += s.end_seq - from;
  }
  return n;
}

int Spool::begin_sync(std::uint64_t& upto) {
  upto = next_seq_;
  if (!unsynced_ || write_fd_ < 0) {
    durable_seq_ = std::max(durable_seq_, upto);
    return -1;
  }
  unsynced_ = false;
  return ::fcntl(write_fd_, F_DUPFD_CLOEXEC, 0);
}

void Spool::close_reader() {
  if (read_fd_ >= 0) ::close(read_fd_);
  read_fd_ = -1;
  read_buf_.clear();
  read_pos_ = 0;
  read_offset_ = 0;
}

bool Spool::fill_reader(std::size_t want, std::size_t available) {
  const std::size_t have = read_buf_.size() - read_pos_;
  if (have >= want) return true;
  if (read_pos_ > 0) {
    read_buf_.erase(0, read_pos_);
    read_offset_ += read_pos_;
    read_pos_ = 0;
  }
  // No more than the segment holds: a reader close behind the writer reads a little, often.
  const std::size_t unread = available > have ? available - have : 0;
  const std::size_t get = std::min(std::max(want - have, kReadChunk), unread);
  read_buf_.resize(have + get);
  std::size_t got = 0;
  while (got < get) {
    const ssize_t n = ::pread(read_fd_, read_buf_.data() + have + got, get - got,
                              static_cast<off_t>(read_offset_ + have + got));
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  read_buf_.resize(have + got);
  return read_buf_.size() >= want;
}

bool Spool::read_next(std::uint64_t& seq, std::string& body) {
  for (;;) {
    // The segment being read, or the next one after it (the one read may have been dropped).
    auto it = std::find_if(segments_.begin(), segments_.end(), [&](const Segment& s) {
      return reader_started_ ? s.first_seq >= read_segment_ : true;
    });
    if (it == segments_.end()) return false;
    if (!reader_started_ || it->first_seq != read_segment_ || read_fd_ < 0) {
      close_reader();
      read_segment_ = it->first_seq;
      reader_started_ = true;
      read_fd_ = ::open(it->path.c_str(), O_RDONLY | O_CLOEXEC);
      if (read_fd_ < 0) return false;  // retried on the next call
    }
    const bool active = write_fd_ >= 0 && &*it == &segments_.back();
    const std::uint64_t at = read_offset_ + read_pos_;
    if (at >= it->size) {
      if (active) return false;           // caught up with the writer
      read_segment_ = it->first_seq + 1;  // on to the next segment
      close_reader();
      continue;
    }
    const std::size_t available = static_cast<std::size_t>(it->size - at);
    if (!fill_reader(std::min(kHeader, available), available)) {
      // Shorter than recorded (truncated under us, or an I/O error): the segment ends here.
      if (active) return false;
      read_segment_ = it->first_seq + 1;
      close_reader();
      continue;
    }
    std::uint32_t length = 0;
    Parse p = parse_frame(read_buf_.data() + read_pos_, read_buf_.size() - read_pos_, seq, length,
                          written_from_);
    if (p == Parse::need_more && available >= kHeader + length && length <= kMaxBody) {
      fill_reader(kHeader + length, available);
      p = parse_frame(read_buf_.data() + read_pos_, read_buf_.size() - read_pos_, seq, length,
                      written_from_);
    }
    if (p != Parse::ok) {
      // Damage that appeared after the spool was opened: step over it a byte at a time.
      if (read_pos_ < read_buf_.size()) ++read_pos_;
      continue;
    }
    // Under `batch`, a record goes to the sink only once it is synced.
    if (settings_.fsync == FsyncPolicy::batch && seq >= durable_seq_) return false;
    read_pos_ += kHeader + length;
    if (seq < read_seq_) continue;  // delivered before the cursor was last written
    body.assign(read_buf_.data() + read_pos_ - length, length);
    read_seq_ = seq + 1;
    return true;
  }
}

void Spool::remove_front() {
  Segment& s = segments_.front();
  if (reader_started_ && read_segment_ == s.first_seq) close_reader();
  std::error_code ec;
  std::filesystem::remove(s.path, ec);
  total_bytes_ -= s.size;
  segments_.pop_front();
}

void Spool::release_before(std::uint64_t watermark, bool now) {
  released_ = std::max(released_, std::min(watermark, next_seq_));
  bool removed = false;
  while (!segments_.empty()) {
    const Segment& s = segments_.front();
    const bool active = write_fd_ >= 0 && segments_.size() == 1;
    if (active || s.end_seq > released_) break;
    remove_front();
    removed = true;
  }
  if (released_ == cursor_written_) return;
  if (now || removed || std::chrono::steady_clock::now() - cursor_time_ >= kCursorInterval)
    write_cursor();
}

bool Spool::drop_oldest(std::uint64_t& lost) {
  lost = 0;
  if (segments_.empty() || (write_fd_ >= 0 && segments_.size() == 1)) return false;
  const Segment& s = segments_.front();
  const std::uint64_t from = std::max(s.first_seq, read_seq_);
  lost = s.end_seq > from ? s.end_seq - from : 0;
  read_seq_ = std::max(read_seq_, s.end_seq);
  remove_front();
  return true;
}

}  // namespace crosscut::delivery
