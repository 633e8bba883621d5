// Wake-ups for a followed file: inotify on the folder that holds it, so that writes, creation
// and renames of that name end a wait at once. Only a hint: the follower also looks at the file
// after each poll interval, so a missing folder or an unavailable inotify costs latency only.
#pragma once

#include <string>

#include "unique_fd.hpp"

namespace crosscut::local_inputs {

// Not thread-safe; owned by the thread following the file. Never throws.
class FileWatch {
 public:
  explicit FileWatch(const std::string& path);

  // The fd to poll for events, or -1 when nothing is watched right now.
  int fd() const { return watching_ ? inotify_.get() : -1; }
  // Reads every queued event (they only wake the follower up).
  void consume();
  // Tries to watch the folder again if it was missing or went away.
  void retry();

 private:
  UniqueFd inotify_;
  std::string folder_;
  bool watching_ = false;
};

}  // namespace crosscut::local_inputs
