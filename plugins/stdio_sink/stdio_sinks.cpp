#include "stdio_sinks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace crosscut::stdio_sink {
namespace {

// Not a configuration problem: the same file may open on another machine or later (EMFILE).
int open_for_writing(const FileSinkOptions& options) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (options.append ? O_APPEND : O_TRUNC);
  const int fd = ::open(options.path.c_str(), flags, 0644);
  if (fd < 0) {
    char buffer[256];
    throw std::runtime_error("cannot open '" + options.path +
                             "' for writing: " + ::strerror_r(errno, buffer, sizeof buffer));
  }
  return fd;
}

}  // namespace

StdoutRecordSink::StdoutRecordSink(const QueueOptions& options, sdk::HostContext& host)
    : FdRecordSink(STDOUT_FILENO, false, "stdout", options, host.logger("stdout_sink", "app")) {}

void FileRecordSink::check_options(const FileSinkOptions& options, const sdk::ConfigView& view,
                                   sdk::HostContext&) {
  // Present but empty passes the host's `required` check; it names no file.
  if (options.path.empty()) view.fail("path", "a file path is required");
}

FileRecordSink::FileRecordSink(const FileSinkOptions& options, sdk::HostContext& host)
    : FdRecordSink(open_for_writing(options), true, "file " + options.path, options,
                   host.logger("file_sink", "app")) {}

}  // namespace crosscut::stdio_sink
