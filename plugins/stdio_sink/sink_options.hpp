// The options of the `stdout` and `file` record sinks, declared once in their option tables.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "crosscut/sdk/options.hpp"
#include "crosscut/sdk/overflow.hpp"

namespace crosscut::stdio_sink {

// The writer queue of both sinks: queue_capacity, on_full, block_timeout.
struct QueueOptions {
  std::size_t capacity = 65536;  // records waiting for the writer
  // `on_full: drop` is drop_newest: the record being published is refused.
  sdk::OverflowPolicy on_full = sdk::OverflowPolicy::block;
  // With OverflowPolicy::block, how long publish() waits for space before refusing the record.
  std::chrono::milliseconds block_timeout{100};
  // Not an option: how long destruction keeps writing what is queued before it completes the
  // rest as retriable (an output nobody reads must not hang the process).
  std::chrono::milliseconds stop_timeout{5000};
};

// A base, not a member, so that the queue keys stay top-level keys of the `file` sink.
struct FileSinkOptions : QueueOptions {
  std::string path;
  bool append = true;  // false: truncate the file when the sink starts
};

// The `stdout` sink's table: the queue rows.
const sdk::OptionTable<QueueOptions>& stdout_sink_options();
// The `file` sink's table: path (required), append, then the same queue rows.
const sdk::OptionTable<FileSinkOptions>& file_sink_options();

}  // namespace crosscut::stdio_sink
