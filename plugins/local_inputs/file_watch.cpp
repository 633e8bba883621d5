#include "file_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>

namespace crosscut::local_inputs {
namespace {

constexpr std::uint32_t kEvents = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                  IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

FileWatch::FileWatch(const std::string& path)
    : inotify_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  const auto parent = std::filesystem::path(path).parent_path();
  folder_ = parent.empty() ? "." : parent.string();
  retry();
}

void FileWatch::retry() {
  if (watching_ || !inotify_.valid()) return;
  watching_ = ::inotify_add_watch(inotify_.get(), folder_.c_str(), kEvents) >= 0;
}

void FileWatch::consume() {
  alignas(inotify_event) char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(inotify_.get(), buffer, sizeof buffer);
    if (n <= 0) return;
    for (ssize_t at = 0; at < n;) {
      inotify_event event;
      std::memcpy(&event, buffer + at, sizeof event);
      // The folder itself went away: watch it again once it is back.
      if (event.mask & IN_IGNORED) watching_ = false;
      at += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
    }
  }
}

}  // namespace crosscut::local_inputs
