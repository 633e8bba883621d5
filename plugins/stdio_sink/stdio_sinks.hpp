// The `stdout` and `file` record sink components: an FdRecordSink over their descriptor,
// built from their options.
#pragma once

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/host_context.hpp"
#include "fd_record_sink.hpp"
#include "sink_options.hpp"

namespace crosscut::stdio_sink {

// Writes to fd 1, which it does not own.
class StdoutRecordSink final : public FdRecordSink {
 public:
  static const sdk::OptionTable<QueueOptions>& options_table() { return stdout_sink_options(); }
  StdoutRecordSink(const QueueOptions& options, sdk::HostContext& host);
};

// Opens `path` when built (truncating it unless `append`); a file that cannot be opened for
// writing throws std::runtime_error naming it and the reason. An empty path is a ConfigError.
class FileRecordSink final : public FdRecordSink {
 public:
  static const sdk::OptionTable<FileSinkOptions>& options_table() { return file_sink_options(); }
  static void check_options(const FileSinkOptions& options, const sdk::ConfigView& view,
                            sdk::HostContext& host);
  FileRecordSink(const FileSinkOptions& options, sdk::HostContext& host);
};

}  // namespace crosscut::stdio_sink
