// The options of the `stdin`, `file` and `unix` inputs, each declared once in its option
// table, and the checks of the values a table cannot express.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/options.hpp"
#include "line_splitter.hpp"

namespace crosscut::local_inputs {

struct StdinInputOptions {
  sdk::ByteSize max_line{kDefaultMaxLine};
};

struct FileInputOptions {
  enum class StartAt { beginning, end };  // only for the file found when run() starts
  std::string path;
  bool follow = false;
  StartAt start_at = StartAt::beginning;
  sdk::ByteSize max_line{kDefaultMaxLine};
  // Followed: the longest wait before looking at the file again when inotify says nothing
  // (a write to a renamed file, a folder that cannot be watched, a file system without it).
  std::chrono::milliseconds poll_interval{250};
  // Called on the input's thread each time a file has been opened and positioned (tests
  // use it to know where reading starts). Not an option.
  std::function<void()> on_open{};
};

struct UnixSocketOptions {
  std::string path;
  // The `mode` option is octal text ("0660"), which no table type reads: the input reads it
  // itself (check_unix_options).
  mode_t mode = 0660;
  sdk::ByteSize max_line{kDefaultMaxLine};
  std::size_t max_clients = 256;  // more wait in the listen backlog until one leaves
};

const sdk::OptionTable<StdinInputOptions>& stdin_input_options();
const sdk::OptionTable<FileInputOptions>& file_input_options();
const sdk::OptionTable<UnixSocketOptions>& unix_input_options();

// The checks the host cannot make (an upper bound of a size or a duration, an empty path, the
// octal mode): each throws ConfigError at the option through view.fail.
void check_max_line(sdk::ByteSize max_line, const sdk::ConfigView& view);
const FileInputOptions& check_file_options(const FileInputOptions& options,
                                           const sdk::ConfigView& view);
// `options` with the mode the view's `mode` option gives.
UnixSocketOptions check_unix_options(UnixSocketOptions options, const sdk::ConfigView& view);

// Parses an octal permission string such as "0660" or "660"; false when it is not one.
bool parse_socket_mode(const std::string& text, mode_t& mode);

}  // namespace crosscut::local_inputs
