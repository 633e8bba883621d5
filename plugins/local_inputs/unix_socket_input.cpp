#include "unix_socket_input.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <iterator>
#include <list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "line_splitter.hpp"
#include "read_chunk.hpp"
#include "stop_signal.hpp"

namespace crosscut::local_inputs {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kMaxEvents = 64;
// Connections taken from the backlog per turn: a storm of connects cannot keep the loop from
// reading the clients it already has.
constexpr int kAcceptsPerTurn = 64;
// Refusals over max_clients are logged at most this often, with how many there were.
constexpr auto kRefusalReportInterval = std::chrono::minutes(1);
// How long accepting pauses after accept() ran out of descriptors or memory (unless a client
// leaves first): the listener stays readable, so trying again at once would spin.
constexpr auto kAcceptPause = std::chrono::seconds(1);
// What stop allows for reading what clients had already sent.
constexpr auto kStopReadBudget = std::chrono::milliseconds(100);

// epoll tags of the two descriptors that are not clients.
char stop_tag;
char listener_tag;

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

struct Client;
// Owned here, least recently heard from first: the front is the next to become idle.
using ClientList = std::list<std::unique_ptr<Client>>;

// One connection: its socket, its line stream, and when it last sent anything.
struct Client {
  Client(UniqueFd socket, LineSplitter splitter, SteadyClock::time_point now)
      : fd(std::move(socket)), lines(std::move(splitter)), last_heard(now) {}
  UniqueFd fd;
  LineSplitter lines;
  SteadyClock::time_point last_heard;
  ClientList::iterator at;  // its own place in the list, for moving it to the back
};

UnixSocketOptions with_mode(UnixSocketOptions options, const sdk::ConfigView& view) {
  options.mode = socket_mode(view);
  return options;
}

}  // namespace

// The state of one run(): the epoll set, the clients, and what is pending to report. Lives on
// the input's thread only.
class UnixSocketInput::Session {
 public:
  Session(UnixSocketInput& input, sdk::InputSink& sink, std::stop_token stop);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Serves clients until stop is requested.
  void serve();
  // After stop: takes the connections waiting in the backlog and reads what every client has
  // sent so far, for at most kStopReadBudget.
  void read_what_was_sent();

 private:
  enum class Read { more, drained, closed };

  void watch(int fd, void* tag, int op);
  int wait_timeout_ms(SteadyClock::time_point now) const;
  void accept_clients(SteadyClock::time_point now);
  // Takes the next connection from the backlog; false when there is none (or accept failed).
  bool accept_one(SteadyClock::time_point now);
  void admit(int fd, SteadyClock::time_point now);
  void refuse(int fd, SteadyClock::time_point now);
  Read read_once(Client& client, SteadyClock::time_point now);
  void drop(Client& client);
  void close_idle(SteadyClock::time_point now);
  void report_refusals(SteadyClock::time_point now);
  void pause_accepting(SteadyClock::time_point now);
  void resume_accepting();

  UnixSocketInput& input_;
  const UnixSocketOptions& options_;
  sdk::InputSink& sink_;
  StopSignal stop_;
  UniqueFd epoll_;
  std::unique_ptr<char[]> buffer_;
  ClientList clients_;
  std::uint64_t connections_ = 0;  // numbers the streams: "unix:<path>#<n>"
  bool accepting_ = true;
  SteadyClock::time_point resume_accepting_at_{};
  std::uint64_t refusals_unreported_ = 0;
  std::optional<SteadyClock::time_point> refusals_reported_at_;
};

UnixSocketInput::Session::Session(UnixSocketInput& input, sdk::InputSink& sink,
                                  std::stop_token stop)
    : input_(input),
      options_(input.options_),
      sink_(sink),
      stop_(std::move(stop)),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      buffer_(std::make_unique_for_overwrite<char[]>(kReadChunk)) {
  if (!epoll_.valid()) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  watch(stop_.fd(), &stop_tag, EPOLL_CTL_ADD);
  watch(input_.listener_.get(), &listener_tag, EPOLL_CTL_ADD);
}

void UnixSocketInput::Session::watch(int fd, void* tag, int op) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = tag;
  // Removing cannot fail in a way that matters: closing the descriptor removes it anyway.
  if (::epoll_ctl(epoll_.get(), op, fd, &event) != 0 && op != EPOLL_CTL_DEL)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl");
}

void UnixSocketInput::Session::serve() {
  epoll_event events[kMaxEvents];
  for (;;) {
    const int n =
        ::epoll_wait(epoll_.get(), events, kMaxEvents, wait_timeout_ms(SteadyClock::now()));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    const auto now = SteadyClock::now();
    for (int i = 0; i < n; ++i) {
      // Checked per event: what is left unread here is read by read_what_was_sent().
      if (stop_.requested()) return;
      void* tag = events[i].data.ptr;
      if (tag == &listener_tag) {
        accept_clients(now);
      } else if (tag != &stop_tag) {
        // One read per client per turn, level-triggered: epoll comes back for the rest, after
        // every other ready client had its turn.
        auto& client = *static_cast<Client*>(tag);
        if (read_once(client, now) == Read::closed) {
          // Closed (or reset): what the client sent before is complete.
          client.lines.finish();
          drop(client);
        }
      }
    }
    if (stop_.requested()) return;
    close_idle(now);
    report_refusals(now);
    if (!accepting_ && now >= resume_accepting_at_) resume_accepting();
  }
}

int UnixSocketInput::Session::wait_timeout_ms(SteadyClock::time_point now) const {
  std::optional<SteadyClock::time_point> next;
  auto consider = [&next](SteadyClock::time_point at) {
    if (!next || at < *next) next = at;
  };
  if (!clients_.empty()) consider(clients_.front()->last_heard + options_.idle_timeout);
  if (refusals_unreported_ > 0 && refusals_reported_at_)
    consider(*refusals_reported_at_ + kRefusalReportInterval);
  if (!accepting_) consider(resume_accepting_at_);
  if (!next) return -1;
  if (*next <= now) return 0;
  // Rounded up: waking before the deadline would find nothing due and wait again.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

void UnixSocketInput::Session::accept_clients(SteadyClock::time_point now) {
  for (int i = 0; i < kAcceptsPerTurn; ++i)
    if (!accept_one(now)) return;
}

bool UnixSocketInput::Session::accept_one(SteadyClock::time_point now) {
  for (;;) {
    const int fd =
        ::accept4(input_.listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      if (clients_.size() >= options_.max_clients)
        refuse(fd, now);
      else
        admit(fd, now);
      return true;
    }
    const int err = errno;
    if (err == EINTR || err == ECONNABORTED) continue;
    if (err != EAGAIN && err != EWOULDBLOCK) {
      // Out of descriptors or memory: the connection stays in the backlog for later.
      input_.logger_.warning("cannot accept a connection, pausing for a second",
                             {{"path", options_.path}, {"error", error_text(err)}});
      pause_accepting(now);
    }
    return false;
  }
}

void UnixSocketInput::Session::admit(int fd, SteadyClock::time_point now) {
  auto owned = std::make_unique<Client>(
      UniqueFd(fd),
      LineSplitter(sink_, "unix:" + options_.path + "#" + std::to_string(++connections_),
                   static_cast<std::size_t>(options_.max_line.bytes)),
      now);
  Client& client = *owned;
  clients_.push_back(std::move(owned));
  client.at = std::prev(clients_.end());
  watch(client.fd.get(), &client, EPOLL_CTL_ADD);
  input_.count(input_.served_, "unix_input.clients_served");
  input_.logger_.debug("client connected", {{"input", client.lines.name()}});
}

void UnixSocketInput::Session::refuse(int fd, SteadyClock::time_point now) {
  // Closed unread: the client reads end of file (or a reset, if it had sent something).
  ::close(fd);
  input_.count(input_.refused_, "unix_input.clients_refused");
  ++refusals_unreported_;
  report_refusals(now);
}

void UnixSocketInput::Session::report_refusals(SteadyClock::time_point now) {
  if (refusals_unreported_ == 0) return;
  if (refusals_reported_at_ && now - *refusals_reported_at_ < kRefusalReportInterval) return;
  input_.logger_.warning("refused connections over max_clients",
                         {{"path", options_.path},
                          {"refused", refusals_unreported_},
                          {"max_clients", options_.max_clients}});
  refusals_unreported_ = 0;
  refusals_reported_at_ = now;
}

UnixSocketInput::Session::Read UnixSocketInput::Session::read_once(Client& client,
                                                                   SteadyClock::time_point now) {
  const ssize_t got = read_some(client.fd.get(), buffer_.get(), kReadChunk);
  if (got > 0) {
    client.last_heard = now;
    clients_.splice(clients_.end(), clients_, client.at);
    client.lines.feed(std::string_view(buffer_.get(), static_cast<std::size_t>(got)));
    return Read::more;
  }
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Read::drained;
  return Read::closed;
}

void UnixSocketInput::Session::drop(Client& client) {
  watch(client.fd.get(), &client, EPOLL_CTL_DEL);
  input_.logger_.debug("client disconnected", {{"input", client.lines.name()}});
  clients_.erase(client.at);  // destroys `client`
  // A descriptor is free again.
  if (!accepting_) resume_accepting();
}

void UnixSocketInput::Session::close_idle(SteadyClock::time_point now) {
  while (!clients_.empty()) {
    Client& client = *clients_.front();
    if (now - client.last_heard < options_.idle_timeout) return;
    // Data may have arrived since the wait ended: a client that sent something is not idle.
    switch (read_once(client, now)) {
      case Read::more:
        continue;  // moved to the back
      case Read::closed:
        client.lines.finish();
        drop(client);
        continue;
      case Read::drained:
        break;
    }
    input_.count(input_.closed_idle_, "unix_input.clients_closed_idle");
    input_.logger_.debug(
        "closed an idle client",
        {{"input", client.lines.name()},
         {"idle_timeout_ms", static_cast<std::int64_t>(options_.idle_timeout.count())}});
    // Silent for that long, an unterminated line is not a write in progress: delivered, as
    // when the client disconnects.
    client.lines.finish();
    drop(client);
  }
}

void UnixSocketInput::Session::pause_accepting(SteadyClock::time_point now) {
  if (!accepting_) return;
  watch(input_.listener_.get(), &listener_tag, EPOLL_CTL_DEL);
  accepting_ = false;
  resume_accepting_at_ = now + kAcceptPause;
}

void UnixSocketInput::Session::resume_accepting() {
  watch(input_.listener_.get(), &listener_tag, EPOLL_CTL_ADD);
  accepting_ = true;
}

void UnixSocketInput::Session::read_what_was_sent() {
  const auto deadline = SteadyClock::now() + kStopReadBudget;
  // A client whose connect() returned before stop may still wait in the backlog; those over
  // max_clients are reset when the listener closes.
  while (clients_.size() < options_.max_clients && SteadyClock::now() < deadline &&
         accept_one(SteadyClock::now())) {
  }
  // Round-robin, one chunk per client per round, until each is drained: a client that keeps
  // sending only uses up the budget, and the others were read in the first rounds.
  std::vector<Client*> unread;
  unread.reserve(clients_.size());
  for (const auto& client : clients_) unread.push_back(client.get());
  std::vector<Client*> still;
  while (!unread.empty()) {
    still.clear();
    for (Client* client : unread) {
      const auto now = SteadyClock::now();
      if (now >= deadline) {
        input_.logger_.debug("stopped with clients still sending",
                             {{"path", options_.path}, {"clients", unread.size()}});
        return;
      }
      switch (read_once(*client, now)) {
        case Read::more:
          still.push_back(client);
          break;
        case Read::drained:
          break;
        case Read::closed:
          client->lines.finish();
          drop(*client);
          break;
      }
    }
    unread.swap(still);
  }
}

UnixSocketInput::UnixSocketInput(UnixSocketOptions options, sdk::Logger& logger)
    : UnixSocketInput(std::move(options), logger, nullptr) {}

UnixSocketInput::UnixSocketInput(const UnixSocketOptions& options, const sdk::ConfigView& view,
                                 sdk::HostContext& host)
    : UnixSocketInput(with_mode(options, view), host.logger("unix_input", "app"), &host) {}

UnixSocketInput::UnixSocketInput(UnixSocketOptions options, sdk::Logger& logger,
                                 sdk::HostContext* metrics)
    : options_(std::move(options)), logger_(logger), metrics_(metrics) {
  // The factory's check_options bounds these; options built in code are not checked there.
  if (options_.max_clients == 0 || options_.idle_timeout.count() <= 0 ||
      options_.idle_timeout > kIdleTimeoutCap || options_.max_line.bytes == 0 ||
      options_.max_line.bytes > kMaxLineCap)
    throw std::invalid_argument("unix input on '" + options_.path +
                                "': max_clients, idle_timeout or max_line out of range");
  claim_path();
}

void UnixSocketInput::check_options(const UnixSocketOptions& options, const sdk::ConfigView& view,
                                    sdk::HostContext&) {
  check_unix_options(options, view);
}

UnixSocketInput::~UnixSocketInput() {
  release_path();
}

UnixSocketCounters UnixSocketInput::counters() const {
  return {served_.load(), refused_.load(), closed_idle_.load()};
}

void UnixSocketInput::count(std::atomic<std::uint64_t>& counter, std::string_view metric) {
  counter.fetch_add(1);
  if (metrics_ != nullptr) metrics_->add_metric(metric, 1);
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

void UnixSocketInput::run(sdk::InputSink& sink, std::stop_token stop) {
  if (!listener_.valid()) throw std::logic_error("run() called twice");
  {
    Session session(*this, sink, std::move(stop));
    session.serve();
    session.read_what_was_sent();
  }  // every client closed; a partial line still pending is dropped
  release_path();
  const UnixSocketCounters c = counters();
  logger_.info("unix input stopped", {{"path", options_.path},
                                      {"clients_served", c.served},
                                      {"clients_refused", c.refused},
                                      {"clients_closed_idle", c.closed_idle}});
}

}  // namespace crosscut::local_inputs
