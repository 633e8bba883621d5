// Input `file`: NDJSON lines from a file, read once or followed like `tail -F`.
#pragma once

#include <stop_token>
#include <string>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "crosscut/sdk/input.hpp"
#include "input_options.hpp"

namespace crosscut::local_inputs {

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
  static const sdk::OptionTable<FileInputOptions>& options_table() { return file_input_options(); }
  // The values the table cannot check (an empty path, poll_interval over 60s, max_line over
  // kMaxLineCap) are ConfigErrors at the option. Opens nothing: the file may not exist yet.
  static void check_options(const FileInputOptions& options, const sdk::ConfigView& view,
                            sdk::HostContext& host);
  // From checked options.
  FileInput(const FileInputOptions& options, sdk::HostContext& host);
  void run(sdk::InputSink& sink, std::stop_token stop) override;

  const std::string& name() const { return name_; }

 private:
  void read_once(sdk::InputSink& sink, const std::stop_token& stop);
  void follow(sdk::InputSink& sink, std::stop_token stop);

  FileInputOptions options_;
  std::string name_;
};

}  // namespace crosscut::local_inputs
