#include "sink_options.hpp"

#include <utility>

namespace crosscut::stdio_sink {
namespace {

// The table of S (QueueOptions or a struct derived from it): `rows`, then the queue rows.
// The queue members are bound as members of S, so the keys land in S's own table.
template <class S, class... Rows>
sdk::OptionTable<S> table_with_queue_rows(Rows&&... rows) {
  return sdk::OptionTable<S>{
      std::forward<Rows>(rows)...,
      sdk::bind_option<S, std::size_t>(
          "queue_capacity", &S::capacity,
          "records waiting for the writer thread before on_full applies")
          .min(1),
      sdk::bind_option<S, sdk::OverflowPolicy>(
          "on_full", &S::on_full,
          "when the queue is full: block (up to block_timeout, then drop) or drop")
          .choices(
              {{"block", sdk::OverflowPolicy::block}, {"drop", sdk::OverflowPolicy::drop_newest}}),
      sdk::bind_option<S, std::chrono::milliseconds>(
          "block_timeout", &S::block_timeout,
          "with on_full: block, the longest a publish waits for queue space")
          .positive(),
  };
}

}  // namespace

const sdk::OptionTable<QueueOptions>& stdout_sink_options() {
  static const auto table = table_with_queue_rows<QueueOptions>();
  return table;
}

const sdk::OptionTable<FileSinkOptions>& file_sink_options() {
  static const auto table = table_with_queue_rows<FileSinkOptions>(
      sdk::bind_option("path", &FileSinkOptions::path, "the file records are appended to")
          .required(),
      sdk::bind_option("append", &FileSinkOptions::append,
                       "keep what the file holds (false: truncate it when the sink starts)"));
  return table;
}

}  // namespace crosscut::stdio_sink
