// The options of the `stdout` and `file` record sinks: their schema and how they are read.
#pragma once

#include "crosscut/sdk/config.hpp"
#include "fd_record_sink.hpp"

namespace crosscut::stdio_sink {

// queue_capacity, on_full, block_timeout: shared by both sinks.
sdk::ConfigSchema queue_schema();
// queue_schema() plus path (required) and append.
sdk::ConfigSchema file_schema();

QueueOptions read_queue_options(const sdk::ConfigView& options);

}  // namespace crosscut::stdio_sink
