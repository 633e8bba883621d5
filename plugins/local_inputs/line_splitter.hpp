// Cuts a byte stream into lines and hands them to an InputSink, with the rules every local
// input shares: a trailing \r is stripped, empty lines are skipped, a line longer than
// max_line is reported through on_bad_input and skipped without being buffered, any other
// bytes are passed through untouched (the host validates them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crosscut/sdk/input.hpp"

namespace crosscut::local_inputs {

inline constexpr std::size_t kDefaultMaxLine = std::size_t{1} << 20;

// Not thread-safe: one splitter per stream (per file, per connection). Line numbers count
// every line of the stream, delivered or not, so they match what an editor shows.
class LineSplitter {
 public:
  LineSplitter(sdk::InputSink& sink, std::string name, std::size_t max_line);

  // Delivers every line `data` completes; keeps an unterminated tail for the next call.
  // Lines are delivered straight out of `data` unless they started in an earlier call.
  void feed(std::string_view data);
  // The stream has ended for good: delivers an unterminated last line, if any.
  void finish();
  // Starts a new stream (e.g. a rotated file): drops anything pending, numbering from 1.
  void restart();
  // Drops bytes up to and including the next newline without reporting them: for reading
  // that starts in the middle of a line.
  void skip_to_next_line();

  const std::string& name() const { return name_; }
  std::uint64_t lines_seen() const { return line_; }

 private:
  void deliver(std::string_view line);
  void keep_partial(const char* begin, const char* end);
  void report_overlong(std::uint64_t line);

  sdk::InputSink& sink_;
  std::string name_;
  std::size_t max_line_;
  std::string pending_;      // the start of a line whose newline has not arrived yet
  bool discarding_ = false;  // inside a line being skipped (too long, or skip_to_next_line)
  std::uint64_t line_ = 0;   // lines ended so far
};

}  // namespace crosscut::local_inputs
