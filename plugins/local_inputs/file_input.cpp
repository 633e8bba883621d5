#include "file_input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

#include "file_watch.hpp"
#include "read_chunk.hpp"
#include "stop_signal.hpp"
#include "unique_fd.hpp"

namespace crosscut::local_inputs {
namespace {

// One open file being read, and how far into it.
struct OpenFile {
  UniqueFd fd;
  off_t offset = 0;
};

enum class Drained { end_of_file, stopped };

// Reads `file` to its current end, feeding `lines`; checks for stop between chunks so a
// large file does not delay it.
Drained drain(OpenFile& file, LineSplitter& lines, char* buffer, const std::stop_token& stop,
              const std::string& name) {
  for (;;) {
    if (stop.stop_requested()) return Drained::stopped;
    const ssize_t n = read_some(file.fd.get(), buffer, kReadChunk);
    if (n == 0) return Drained::end_of_file;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "reading " + name);
    file.offset += n;
    lines.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
  }
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

// Opens for reading at the end; when that end is inside a line, the line's tail is skipped.
void seek_to_end(OpenFile& file, LineSplitter& lines) {
  const off_t end = ::lseek(file.fd.get(), 0, SEEK_END);
  if (end <= 0) return;
  file.offset = end;
  char last = '\n';
  if (::pread(file.fd.get(), &last, 1, end - 1) == 1 && last != '\n') lines.skip_to_next_line();
}

}  // namespace

FileInput::FileInput(FileInputOptions options)
    : options_(std::move(options)), name_("file:" + options_.path) {}

void FileInput::check_options(const FileInputOptions& options, const sdk::ConfigView& view,
                              sdk::HostContext&) {
  check_file_options(options, view);
}

FileInput::FileInput(const FileInputOptions& options, sdk::HostContext&) : FileInput(options) {}

void FileInput::run(sdk::InputSink& sink, std::stop_token stop) {
  if (options_.follow)
    follow(sink, std::move(stop));
  else
    read_once(sink, stop);
}

void FileInput::read_once(sdk::InputSink& sink, const std::stop_token& stop) {
  OpenFile file{UniqueFd(::open(options_.path.c_str(), O_RDONLY | O_CLOEXEC))};
  if (!file.fd.valid())
    throw std::system_error(errno, std::generic_category(), "cannot open '" + options_.path + "'");
  LineSplitter lines(sink, name_, static_cast<std::size_t>(options_.max_line.bytes));
  if (options_.start_at == FileInputOptions::StartAt::end) seek_to_end(file, lines);
  if (options_.on_open) options_.on_open();
  const auto buffer = std::make_unique_for_overwrite<char[]>(kReadChunk);
  if (drain(file, lines, buffer.get(), stop, name_) == Drained::end_of_file) lines.finish();
}

void FileInput::follow(sdk::InputSink& sink, std::stop_token stop_token) {
  StopSignal stop(stop_token);
  FileWatch watch(options_.path);
  LineSplitter lines(sink, name_, static_cast<std::size_t>(options_.max_line.bytes));
  const auto buffer = std::make_unique_for_overwrite<char[]>(kReadChunk);
  const int interval = static_cast<int>(options_.poll_interval.count());
  OpenFile file;
  bool first_open = true;  // start_at applies to the file present when run() starts only

  for (;;) {
    if (stop.requested()) return;
    if (!file.fd.valid()) {
      file = OpenFile{UniqueFd(::open(options_.path.c_str(), O_RDONLY | O_CLOEXEC))};
      const bool at_start = std::exchange(first_open, false);
      if (!file.fd.valid()) {
        // Absent (or not readable yet): wait for it to appear.
        watch.retry();
        if (wait_readable(watch.fd(), stop, interval) == WaitResult::stopped) return;
        watch.consume();
        continue;
      }
      lines.restart();
      if (at_start && options_.start_at == FileInputOptions::StartAt::end) seek_to_end(file, lines);
      if (options_.on_open) options_.on_open();
    }

    if (drain(file, lines, buffer.get(), stop_token, name_) == Drained::stopped) return;

    struct stat current {};
    if (::fstat(file.fd.get(), &current) == 0 && current.st_size < file.offset) {
      // Truncated in place (copytruncate): what it held is gone; start over from offset 0.
      lines.finish();
      lines.restart();
      ::lseek(file.fd.get(), 0, SEEK_SET);
      file.offset = 0;
      continue;
    }
    struct stat at_path {};
    if (::stat(options_.path.c_str(), &at_path) == 0 && !same_file(at_path, current)) {
      // Rotated: the path names a new file. The writer moved to it after its last write to
      // the old one, so draining the old file now gets everything it will ever hold.
      if (drain(file, lines, buffer.get(), stop_token, name_) == Drained::stopped) return;
      lines.finish();
      file = OpenFile{};
      continue;
    }

    watch.retry();
    if (wait_readable(watch.fd(), stop, interval) == WaitResult::stopped) return;
    watch.consume();
  }
}

}  // namespace crosscut::local_inputs
