// The option schemas of the `stdin`, `file` and `unix` inputs and how their options are read.
#pragma once

#include "crosscut/sdk/config.hpp"
#include "file_input.hpp"
#include "unix_socket_input.hpp"

namespace crosscut::local_inputs {

// max_line.
sdk::ConfigSchema stdin_schema();
// path (required), follow, start_at, poll_interval, max_line.
sdk::ConfigSchema file_schema();
// path (required), mode, max_clients, max_line.
sdk::ConfigSchema unix_schema();

// Each throws ConfigError (through options.fail) for a value the schema cannot check.
std::size_t read_max_line(const sdk::ConfigView& options);
FileInputOptions read_file_options(const sdk::ConfigView& options);
UnixSocketOptions read_unix_options(const sdk::ConfigView& options);

}  // namespace crosscut::local_inputs
