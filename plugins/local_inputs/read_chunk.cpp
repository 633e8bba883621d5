#include "read_chunk.hpp"

#include <unistd.h>

#include <cerrno>

namespace crosscut::local_inputs {

ssize_t read_some(int fd, char* buffer, std::size_t size) {
  for (;;) {
    const ssize_t n = ::read(fd, buffer, size);
    if (n >= 0 || errno != EINTR) return n;
  }
}

}  // namespace crosscut::local_inputs
