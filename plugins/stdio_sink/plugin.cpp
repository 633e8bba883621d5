// The stdio_sink plugin: record sinks `stdout` and `file` (NDJSON, one record a line).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "crosscut/sdk/sdk.hpp"
#include "fd_record_sink.hpp"
#include "sink_options.hpp"

namespace {

using namespace crosscut::sdk;
using crosscut::stdio_sink::FdRecordSink;

std::unique_ptr<Component> make_stdout_sink(const ConfigView& options, HostContext& host) {
  return std::make_unique<FdRecordSink>(STDOUT_FILENO, false, "stdout",
                                        crosscut::stdio_sink::read_queue_options(options),
                                        host.logger("stdout_sink", "app"));
}

std::unique_ptr<Component> make_file_sink(const ConfigView& options, HostContext& host) {
  const std::string path = options.get_string("path");
  if (path.empty()) options.fail("path", "a file path is required");
  const auto queue = crosscut::stdio_sink::read_queue_options(options);
  const int flags =
      O_WRONLY | O_CREAT | O_CLOEXEC | (options.get_bool("append", true) ? O_APPEND : O_TRUNC);
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    char buffer[256];
    options.fail("path", "cannot open '" + path +
                             "' for writing: " + ::strerror_r(errno, buffer, sizeof buffer));
  }
  return std::make_unique<FdRecordSink>(fd, true, "file " + path, queue,
                                        host.logger("file_sink", "app"));
}

PluginDescriptor describe() {
  return {"stdio_sink",
          "1.0.0",
          {ComponentFactory{ComponentKind::record_sink, "stdout",
                            "NDJSON records on standard output, one {topic,key,value} a line",
                            crosscut::stdio_sink::queue_schema(), make_stdout_sink},
           ComponentFactory{ComponentKind::record_sink, "file",
                            "NDJSON records appended to a file, one {topic,key,value} a line",
                            crosscut::stdio_sink::file_schema(), make_file_sink}}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
