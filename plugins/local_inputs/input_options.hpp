// The options of the `stdin`, `file` and `unix` inputs, each declared once in its option
// table, and the checks of the values a table cannot express. The checks are what each input's
// check_options() runs, so `crosscut validate` and `crosscut run` refuse the same values.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/options.hpp"
#include "line_splitter.hpp"

namespace crosscut::local_inputs {

// The longest max_line any input accepts: a line is buffered whole until its newline, per
// stream, so this bounds the memory one client or file can make the agent hold.
inline constexpr std::uint64_t kMaxLineCap = std::uint64_t{64} << 20;
// The longest idle_timeout of the `unix` input.
inline constexpr std::chrono::hours kIdleTimeoutCap{24};

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
  // itself (socket_mode).
  mode_t mode = 0660;
  sdk::ByteSize max_line{kDefaultMaxLine};
  // Clients served at once; a connection over it is accepted and closed at once.
  std::size_t max_clients = 256;
  // A client that sends nothing for this long is disconnected, freeing its slot.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
};

const sdk::OptionTable<StdinInputOptions>& stdin_input_options();
const sdk::OptionTable<FileInputOptions>& file_input_options();
const sdk::OptionTable<UnixSocketOptions>& unix_input_options();

// The checks the tables do not make (upper bounds of sizes and durations, an empty path, the
// octal mode). Each throws ConfigError at the option through view.fail; they create nothing.
void check_max_line(sdk::ByteSize max_line, const sdk::ConfigView& view);
void check_file_options(const FileInputOptions& options, const sdk::ConfigView& view);
void check_unix_options(const UnixSocketOptions& options, const sdk::ConfigView& view);

// The view's `mode` option (the default when absent); ConfigError at `mode` when it is not
// octal permissions.
mode_t socket_mode(const sdk::ConfigView& view);
// Parses an octal permission string such as "0660" or "660"; false when it is not one.
bool parse_socket_mode(const std::string& text, mode_t& mode);

}  // namespace crosscut::local_inputs
