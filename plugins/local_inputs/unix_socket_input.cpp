#include "unix_socket_input.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "read_chunk.hpp"
#include "stop_signal.hpp"

namespace crosscut::local_inputs {
namespace {

std::string error_text(int err) {
  char buffer[256];
  return ::strerror_r(err, buffer, sizeof buffer);
}

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path)
    throw std::runtime_error("socket path '" + path + "' must be 1 to " +
                             std::to_string(sizeof address.sun_path - 1) + " bytes long");
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// Whether a process accepts connections on the socket file at `path`.
bool someone_listens(const std::string& path) {
  const auto address = address_of(path);
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) throw std::system_error(errno, std::generic_category(), "socket");
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0)
    return true;
  const int err = errno;
  if (err == ECONNREFUSED || err == ENOENT) return false;
  // EAGAIN: the listener's backlog is full, i.e. it is alive.
  if (err == EAGAIN) return true;
  throw std::runtime_error("cannot check whether '" + path + "' is in use: " + error_text(err));
}

// Per-connection state: the socket and its line stream.
struct Client {
  UniqueFd fd;
  LineSplitter lines;
};

}  // namespace

UnixSocketInput::UnixSocketInput(UnixSocketOptions options, sdk::Logger& logger)
    : options_(std::move(options)), logger_(logger) {
  claim_path();
}

UnixSocketInput::UnixSocketInput(const UnixSocketOptions& options, const sdk::ConfigView& view,
                                 sdk::HostContext& host)
    : UnixSocketInput(check_unix_options(options, view), host.logger("unix_input", "app")) {}

UnixSocketInput::~UnixSocketInput() {
  release_path();
}

void UnixSocketInput::claim_path() {
  const std::string& path = options_.path;
  const auto address = address_of(path);
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode))
      throw std::runtime_error("'" + path + "' exists and is not a socket");
    if (someone_listens(path))
      throw std::runtime_error("'" + path +
                               "' is in use (a running process accepts connections on it)");
    // Stale: left by a process that is gone.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      throw std::runtime_error("cannot remove stale socket '" + path + "': " + error_text(errno));
    logger_.info("replaced a stale socket file", {{"path", path}});
  }

  listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener_.valid()) throw std::system_error(errno, std::generic_category(), "socket");
  if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw std::runtime_error("cannot bind '" + path + "': " + error_text(errno));
  struct stat made {};
  if (::lstat(path.c_str(), &made) == 0) {
    socket_dev_ = made.st_dev;
    socket_ino_ = made.st_ino;
  }
  // Before listen(): until then connect() is refused, so no client ever sees a wider mode.
  if (::chmod(path.c_str(), options_.mode) != 0) {
    const int err = errno;
    release_path();
    throw std::runtime_error("cannot set mode of '" + path + "': " + error_text(err));
  }
  if (::listen(listener_.get(), SOMAXCONN) != 0) {
    const int err = errno;
    release_path();
    throw std::runtime_error("cannot listen on '" + path + "': " + error_text(err));
  }
}

void UnixSocketInput::release_path() {
  if (!listener_.valid()) return;
  listener_.reset();
  // Only our own socket: another process may have replaced it since.
  struct stat now {};
  if (::lstat(options_.path.c_str(), &now) == 0 && now.st_dev == socket_dev_ &&
      now.st_ino == socket_ino_)
    ::unlink(options_.path.c_str());
}

void UnixSocketInput::run(sdk::InputSink& sink, std::stop_token stop_token) {
  if (!listener_.valid()) throw std::logic_error("run() called twice");
  StopSignal stop(std::move(stop_token));
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) throw std::system_error(errno, std::generic_category(), "epoll_create1");

  // epoll data: the client, or one of these two tags.
  static char stop_tag, listener_tag;
  auto watch = [&](int fd, void* tag, int op) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = tag;
    if (::epoll_ctl(epoll.get(), op, fd, &event) != 0 && op != EPOLL_CTL_DEL)
      throw std::system_error(errno, std::generic_category(), "epoll_ctl");
  };
  watch(stop.fd(), &stop_tag, EPOLL_CTL_ADD);
  watch(listener_.get(), &listener_tag, EPOLL_CTL_ADD);

  std::unordered_map<Client*, std::unique_ptr<Client>> clients;
  std::uint64_t connections = 0;
  bool accepting = true;
  const auto buffer = std::make_unique_for_overwrite<char[]>(kReadChunk);

  auto accept_clients = [&] {
    while (clients.size() < options_.max_clients) {
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED) return;
        // Out of descriptors: pause accepting (until a client leaves, or a second) rather
        // than spin on a listener that stays readable.
        logger_.warning("cannot accept a connection",
                        {{"path", options_.path}, {"error", error_text(err)}});
        break;
      }
      auto client = std::make_unique<Client>(
          Client{UniqueFd(fd),
                 LineSplitter(sink, "unix:" + options_.path + "#" + std::to_string(++connections),
                              static_cast<std::size_t>(options_.max_line.bytes))});
      watch(fd, client.get(), EPOLL_CTL_ADD);
      logger_.debug("client connected", {{"input", client->lines.name()}});
      clients.emplace(client.get(), std::move(client));
    }
    if (accepting) {
      // The rest wait in the backlog until a client leaves.
      watch(listener_.get(), &listener_tag, EPOLL_CTL_DEL);
      accepting = false;
    }
  };

  auto drop_client = [&](Client* client) {
    watch(client->fd.get(), client, EPOLL_CTL_DEL);
    logger_.debug("client disconnected", {{"input", client->lines.name()}});
    clients.erase(client);
    if (!accepting) {
      watch(listener_.get(), &listener_tag, EPOLL_CTL_ADD);
      accepting = true;
    }
  };

  epoll_event events[64];
  for (;;) {
    const int timeout_ms = !accepting && clients.empty() ? 1000 : -1;
    const int n = ::epoll_wait(epoll.get(), events, 64, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    if (n == 0 && !accepting) {
      watch(listener_.get(), &listener_tag, EPOLL_CTL_ADD);
      accepting = true;
    }
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &stop_tag || stop.requested()) {
        clients.clear();
        release_path();
        return;
      }
      if (tag == &listener_tag) {
        accept_clients();
        continue;
      }
      auto* client = static_cast<Client*>(tag);
      // One read per wake-up: level-triggered epoll comes back for the rest, so a busy
      // client cannot starve the others.
      const ssize_t got = read_some(client->fd.get(), buffer.get(), kReadChunk);
      if (got > 0) {
        client->lines.feed(std::string_view(buffer.get(), static_cast<std::size_t>(got)));
      } else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        // Closed (or reset): what the client sent before is complete.
        client->lines.finish();
        drop_client(client);
      }
    }
  }
}

}  // namespace crosscut::local_inputs
