// The read buffer size shared by the local inputs, and a read() that retries EINTR.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace crosscut::local_inputs {

// Large enough that a syscall is amortised over thousands of short lines.
inline constexpr std::size_t kReadChunk = 256 * 1024;

// read(2) retried on EINTR: > 0 bytes read, 0 end of file, -1 error (errno set).
ssize_t read_some(int fd, char* buffer, std::size_t size);

}  // namespace crosscut::local_inputs
