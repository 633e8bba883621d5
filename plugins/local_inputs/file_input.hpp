// Input `file`: NDJSON lines from a file, read once or followed like `tail -F`.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <stop_token>
#include <string>

#include "crosscut/sdk/input.hpp"
#include "line_splitter.hpp"

namespace crosscut::local_inputs {

struct FileInputOptions {
  std::string path;
  bool follow = false;
  bool start_at_end = false;  // only for the file found when run() starts
  std::size_t max_line = kDefaultMaxLine;
  // Followed: the longest wait before looking at the file again when inotify says nothing
  // (a write to a renamed file, a folder that cannot be watched, a file system without it).
  std::chrono::milliseconds poll_interval{250};
  // Called on the input's thread each time a file has been opened and positioned (tests
  // use it to know where reading starts).
  std::function<void()> on_open{};
};

// Not followed: run() reads the file to its end, delivers an unterminated last line, and
// returns; a file that cannot be opened throws std::system_error naming it.
//
// Followed: run() returns only on stop. It keeps reading appended data; when the path names
// another file (rename + create, delete + create) it first drains the old file to its end,
// then reads the new one from its beginning; when the file shrinks below what was read
// (truncation) it starts again from offset 0; a missing file is waited for. A line left
// unterminated by a file that was rotated away or truncated is delivered. Line numbers
// restart at 1 in every new file (and after a truncation); with start_at_end they count
// from where reading started.
class FileInput : public sdk::Input {
 public:
  explicit FileInput(FileInputOptions options);
  void run(sdk::InputSink& sink, std::stop_token stop) override;

  const std::string& name() const { return name_; }

 private:
  void read_once(sdk::InputSink& sink, const std::stop_token& stop);
  void follow(sdk::InputSink& sink, std::stop_token stop);

  FileInputOptions options_;
  std::string name_;
};

}  // namespace crosscut::local_inputs
