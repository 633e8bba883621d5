#include "sink_options.hpp"

#include <chrono>
#include <string>
#include <utility>

namespace crosscut::stdio_sink {

sdk::ConfigSchema queue_schema() {
  auto capacity = sdk::option("queue_capacity", sdk::OptionType::integer, "65536",
                              "records waiting for the writer thread before on_full applies");
  capacity.min = 1;
  auto on_full =
      sdk::option("on_full", sdk::OptionType::string, "block",
                  "when the queue is full: block (up to block_timeout, then drop) or drop");
  on_full.choices = {"block", "drop"};
  auto timeout = sdk::option("block_timeout", sdk::OptionType::duration, "100ms",
                             "with on_full: block, the longest a publish waits for queue space");
  timeout.positive = true;
  return {std::move(capacity), std::move(on_full), std::move(timeout)};
}

sdk::ConfigSchema file_schema() {
  auto schema = queue_schema();
  auto path = sdk::option("path", sdk::OptionType::string, "", "the file records are appended to");
  path.required = true;
  schema.insert(schema.begin(), std::move(path));
  schema.insert(schema.begin() + 1,
                sdk::option("append", sdk::OptionType::boolean, "true",
                            "keep what the file holds (false: truncate it when the sink starts)"));
  return schema;
}

QueueOptions read_queue_options(const sdk::ConfigView& options) {
  QueueOptions q;
  const auto capacity = options.get_int("queue_capacity", static_cast<std::int64_t>(q.capacity));
  if (capacity < 1) options.fail("queue_capacity", "must be at least 1");
  q.capacity = static_cast<std::size_t>(capacity);
  const auto on_full = options.get_string("on_full", "block");
  if (on_full == "block")
    q.on_full = QueueOptions::OnFull::block;
  else if (on_full == "drop")
    q.on_full = QueueOptions::OnFull::drop;
  else
    options.fail("on_full", "expected block or drop, got '" + on_full + "'");
  const auto timeout = options.get_duration("block_timeout", q.block_timeout);
  if (timeout.count() <= 0) options.fail("block_timeout", "must be > 0");
  q.block_timeout = std::chrono::ceil<std::chrono::milliseconds>(timeout);
  return q;
}

}  // namespace crosscut::stdio_sink
