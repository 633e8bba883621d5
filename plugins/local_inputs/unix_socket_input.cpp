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

#include "connection_replies.hpp"
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
// What stop allows for reading what clients had already sent, then for writing the replies
// owed to them.
constexpr auto kStopReadBudget = std::chrono::milliseconds(100);
constexpr auto kStopReplyBudget = std::chrono::milliseconds(500);
// A connection is not read while this much of its replies waits to be written (its client is
// not reading them, or they wait behind a flush): pipelining is bounded per connection.
constexpr std::size_t kMaxOwedReplyBytes = std::size_t{4} << 20;
// ... and is read again once it is down to this. The same for the number of replies owed,
// which bounds what waits for the host (flushes) as the bytes bound what waits for the client.
constexpr std::size_t kResumeOwedReplyBytes = std::size_t{1} << 20;
constexpr std::uint64_t kMaxOwedReplies = 65536;
constexpr std::uint64_t kResumeOwedReplies = 16384;

// epoll tags of the descriptors that are not clients.
char stop_tag;
char listener_tag;
char wakeup_tag;

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

// Hands the host the lines of one connection together with its way back.
class ReplyingLineSink final : public sdk::InputSink {
 public:
  ReplyingLineSink(sdk::InputSink& sink, sdk::RequestSink& requests,
                   std::shared_ptr<sdk::ReplyChannel> replies)
      : sink_(sink), requests_(requests), replies_(std::move(replies)) {}
  void on_line(std::string_view line, const sdk::InputPosition& where) override {
    requests_.on_request_line(line, where, replies_);
  }
  void on_message(const sdk::Target& target, std::string_view symbol,
                  std::optional<std::int64_t> event_time_ms) override {
    sink_.on_message(target, symbol, event_time_ms);
  }
  void on_bad_input(const sdk::InputPosition& where, std::string_view reason) override {
    sink_.on_bad_input(where, reason);
  }

 private:
  sdk::InputSink& sink_;
  sdk::RequestSink& requests_;
  std::shared_ptr<sdk::ReplyChannel> replies_;
};

// One connection: its socket, its line stream, the replies owed to it, and when it last sent
// anything.
struct Client {
  UniqueFd fd;
  std::shared_ptr<ConnectionReplies> replies;  // null: the host takes lines one-way
  std::unique_ptr<ReplyingLineSink> replying;  // what `lines` delivers to, with `replies`
  LineSplitter lines;
  SteadyClock::time_point last_heard;
  ClientList::iterator at;  // its own place in the list, for moving it to the back
  std::string unsent;       // reply bytes taken from `replies` and not yet written
  std::size_t unsent_from = 0;
  bool reading = true;   // false: too many replies owed, or the client has ended
  bool ended = false;    // the client shut down its sending side
  bool retired = false;  // to be dropped at the end of the loop's turn
  // The client cannot receive any more (it closed, or shut its reading side): its replies
  // are dropped and counted, while what it sent before is still read and handled.
  bool deaf = false;
  std::uint32_t events = EPOLLIN;  // what epoll watches on `fd`

  Client(UniqueFd socket, std::shared_ptr<ConnectionReplies> owed,
         std::unique_ptr<ReplyingLineSink> sink, sdk::InputSink& plain, std::string name,
         std::size_t max_line, SteadyClock::time_point now)
      : fd(std::move(socket)),
        replies(std::move(owed)),
        replying(std::move(sink)),
        lines(replying ? static_cast<sdk::InputSink&>(*replying) : plain, std::move(name),
              max_line),
        last_heard(now) {}

  std::size_t unsent_bytes() const { return unsent.size() - unsent_from; }
  // Whether a reply is still to be written (or to be sent by the host) to this client.
  bool owes() const { return unsent_bytes() > 0 || (replies && replies->outstanding() > 0); }
};

// Newlines in what is left of `bytes` from `from`: the reply lines not (fully) written.
std::uint64_t lines_in(const std::string& bytes, std::size_t from) {
  std::uint64_t n = 0;
  for (std::size_t i = from; i < bytes.size(); ++i) n += bytes[i] == '\n' ? 1 : 0;
  return n;
}

UnixSocketOptions with_mode(UnixSocketOptions options, const sdk::ConfigView& view) {
  options.mode = socket_mode(view);
  return options;
}

}  // namespace

// The state of one run(): the epoll set, the clients, and what is pending to report. Lives on
// the input's thread only (but for the replies, which the host may send from anywhere).
class UnixSocketInput::Session {
 public:
  Session(UnixSocketInput& input, sdk::InputSink& sink, std::stop_token stop);
  ~Session();  // closes every client, counting the replies it still owed
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Serves clients until stop is requested.
  void serve();
  // After stop: takes the connections waiting in the backlog and reads what every client has
  // sent so far, for at most kStopReadBudget.
  void read_what_was_sent();
  // Then writes the replies owed to clients, for at most kStopReplyBudget.
  void write_owed_replies();

 private:
  enum class Read { more, drained, ended, failed };

  void watch(int fd, void* tag, int op, std::uint32_t events = EPOLLIN);
  int wait_timeout_ms(SteadyClock::time_point now) const;
  void accept_clients(SteadyClock::time_point now);
  // Takes the next connection from the backlog; false when there is none (or accept failed).
  bool accept_one(SteadyClock::time_point now);
  void admit(int fd, SteadyClock::time_point now);
  void refuse(int fd, SteadyClock::time_point now);
  void on_client_event(Client& client, std::uint32_t events, SteadyClock::time_point now);
  Read read_once(Client& client, SteadyClock::time_point now);
  // What read_once() found, for a client not yet retired.
  void after_read(Client& client, Read read);
  // Writes what replies are ready; retires the client when its socket fails or when it has
  // ended and is owed nothing more. Then watches for what the client now needs.
  void write_replies(Client& client);
  void watch_needs(Client& client);
  // The client is deaf from now on; what it was owed and not sent is counted as dropped.
  void stop_replying(Client& client);
  void discard_unsent(Client& client);
  void write_ready_replies();  // the wakeup: every client whose replies came from elsewhere
  void retire(Client& client);
  void drop_retired();
  void drop(Client& client);
  void close_idle(SteadyClock::time_point now);
  void report_refusals(SteadyClock::time_point now);
  void pause_accepting(SteadyClock::time_point now);
  void resume_accepting();

  UnixSocketInput& input_;
  const UnixSocketOptions& options_;
  sdk::InputSink& sink_;
  sdk::RequestSink* requests_;  // null: the host cannot reply
  StopSignal stop_;
  UniqueFd epoll_;
  std::shared_ptr<ReplyWakeup> wakeup_;
  std::unique_ptr<char[]> buffer_;
  ClientList clients_;
  std::vector<Client*> retired_;
  std::uint64_t connections_ = 0;  // numbers the streams: "unix:<path>#<n>"
  bool accepting_ = true;
  bool closing_ = false;  // write_owed_replies(): no accepting any more
  SteadyClock::time_point resume_accepting_at_{};
  std::uint64_t refusals_unreported_ = 0;
  std::optional<SteadyClock::time_point> refusals_reported_at_;
};

UnixSocketInput::Session::Session(UnixSocketInput& input, sdk::InputSink& sink,
                                  std::stop_token stop)
    : input_(input),
      options_(input.options_),
      sink_(sink),
      requests_(dynamic_cast<sdk::RequestSink*>(&sink)),
      stop_(std::move(stop)),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wakeup_(std::make_shared<ReplyWakeup>()),
      buffer_(std::make_unique_for_overwrite<char[]>(kReadChunk)) {
  if (!epoll_.valid()) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  watch(stop_.fd(), &stop_tag, EPOLL_CTL_ADD);
  watch(input_.listener_.get(), &listener_tag, EPOLL_CTL_ADD);
  watch(wakeup_->fd(), &wakeup_tag, EPOLL_CTL_ADD);
}

UnixSocketInput::Session::~Session() {
  std::uint64_t lost = 0;
  for (const auto& client : clients_) {
    lost += lines_in(client->unsent, client->unsent_from);
    if (client->replies) lost += client->replies->close();
  }
  if (lost > 0) input_.count(input_.replies_dropped_, "unix_input.replies_dropped", lost);
}

void UnixSocketInput::Session::watch(int fd, void* tag, int op, std::uint32_t events) {
  epoll_event event{};
  event.events = events;
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
      if (stop_.requested()) return drop_retired();
      void* tag = events[i].data.ptr;
      if (tag == &listener_tag) {
        accept_clients(now);
      } else if (tag == &wakeup_tag) {
        wakeup_->clear();
        write_ready_replies();
      } else if (tag != &stop_tag) {
        on_client_event(*static_cast<Client*>(tag), events[i].events, now);
      }
    }
    // Retired clients are dropped only here: a later event of this turn may still name one.
    drop_retired();
    if (stop_.requested()) return;
    close_idle(now);
    report_refusals(now);
    if (!accepting_ && now >= resume_accepting_at_) resume_accepting();
  }
}

void UnixSocketInput::Session::on_client_event(Client& client, std::uint32_t events,
                                               SteadyClock::time_point now) {
  if (client.retired) return;
  if ((events & EPOLLOUT) != 0) write_replies(client);
  if (client.retired) return;
  if (client.reading && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
    // One read per client per turn, level-triggered: epoll comes back for the rest, after
    // every other ready client had its turn.
    after_read(client, read_once(client, now));
  } else if (!client.reading && (events & (EPOLLHUP | EPOLLERR)) != 0) {
    // Gone both ways while not read: nothing can reach it any more. Paused for the replies
    // it owed, the lines it sent before leaving are still in the socket: read on.
    if (closing_ || client.ended) return retire(client);
    stop_replying(client);
    watch_needs(client);
  }
}

void UnixSocketInput::Session::after_read(Client& client, Read read) {
  switch (read) {
    case Read::more:
      write_replies(client);
      return;
    case Read::drained:
      return;
    case Read::ended:
      // What the client sent before is complete; it may still read what it is owed.
      client.lines.finish();
      client.ended = true;
      client.reading = false;
      write_replies(client);
      return;
    case Read::failed:
      client.lines.finish();
      retire(client);
      return;
  }
}

void UnixSocketInput::Session::write_replies(Client& client) {
  if (client.replies) {
    // Compacted before it grows: a client that reads slowly must not make this quadratic.
    if (client.unsent_from > 0 && client.unsent_from == client.unsent.size()) {
      client.unsent.clear();
      client.unsent_from = 0;
    } else if (client.unsent_from >= kMaxOwedReplyBytes) {
      client.unsent.erase(0, client.unsent_from);
      client.unsent_from = 0;
    }
    client.replies->take(client.unsent);
    if (client.deaf) discard_unsent(client);
  }
  while (client.unsent_bytes() > 0) {
    const ssize_t n = ::send(client.fd.get(), client.unsent.data() + client.unsent_from,
                             client.unsent_bytes(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      client.unsent_from += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (closing_) return retire(client);
    stop_replying(client);  // reset, or closed its reading side
  }
  if (client.ended && !client.owes()) return retire(client);
  watch_needs(client);
}

void UnixSocketInput::Session::stop_replying(Client& client) {
  client.deaf = true;
  client.reading = !client.ended;
  discard_unsent(client);
}

void UnixSocketInput::Session::discard_unsent(Client& client) {
  const std::uint64_t lost = lines_in(client.unsent, client.unsent_from);
  client.unsent.clear();
  client.unsent_from = 0;
  if (lost > 0) input_.count(input_.replies_dropped_, "unix_input.replies_dropped", lost);
}

void UnixSocketInput::Session::watch_needs(Client& client) {
  if (client.replies && !client.ended && !client.deaf) {
    const std::size_t bytes = client.unsent_bytes() + client.replies->held_bytes();
    const std::uint64_t replies = client.replies->outstanding();
    if (client.reading && (bytes >= kMaxOwedReplyBytes || replies >= kMaxOwedReplies))
      client.reading = false;
    else if (!client.reading && bytes <= kResumeOwedReplyBytes && replies <= kResumeOwedReplies)
      client.reading = true;
  }
  const std::uint32_t events =
      (client.reading ? EPOLLIN : 0U) | (client.unsent_bytes() > 0 ? EPOLLOUT : 0U);
  if (events == client.events) return;
  client.events = events;
  watch(client.fd.get(), &client, EPOLL_CTL_MOD, events);
}

void UnixSocketInput::Session::write_ready_replies() {
  for (const auto& client : clients_)
    if (!client->retired && client->replies && client->replies->ready()) write_replies(*client);
}

void UnixSocketInput::Session::retire(Client& client) {
  if (client.retired) return;
  client.retired = true;
  retired_.push_back(&client);
}

void UnixSocketInput::Session::drop_retired() {
  for (Client* client : retired_) drop(*client);
  retired_.clear();
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
  std::shared_ptr<ConnectionReplies> replies;
  std::unique_ptr<ReplyingLineSink> replying;
  if (requests_ != nullptr) {
    replies = std::make_shared<ConnectionReplies>(wakeup_, std::this_thread::get_id());
    replying = std::make_unique<ReplyingLineSink>(sink_, *requests_, replies);
  }
  auto owned =
      std::make_unique<Client>(UniqueFd(fd), std::move(replies), std::move(replying), sink_,
                               "unix:" + options_.path + "#" + std::to_string(++connections_),
                               static_cast<std::size_t>(options_.max_line.bytes), now);
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
  if (got == 0) return Read::ended;
  if (errno == EAGAIN || errno == EWOULDBLOCK) return Read::drained;
  return Read::failed;
}

void UnixSocketInput::Session::drop(Client& client) {
  watch(client.fd.get(), &client, EPOLL_CTL_DEL);
  std::uint64_t lost = lines_in(client.unsent, client.unsent_from);
  if (client.replies) lost += client.replies->close();
  if (lost > 0) input_.count(input_.replies_dropped_, "unix_input.replies_dropped", lost);
  input_.logger_.debug("client disconnected", {{"input", client.lines.name()}});
  clients_.erase(client.at);  // destroys `client`
  // A descriptor is free again.
  if (!accepting_) resume_accepting();
}

void UnixSocketInput::Session::close_idle(SteadyClock::time_point now) {
  while (!clients_.empty()) {
    Client& client = *clients_.front();
    if (now - client.last_heard < options_.idle_timeout) return;
    // Owed a reply (a flush waiting on the log sinks), a silent client is waiting, not idle.
    if (client.owes() || client.retired || !client.reading) {
      client.last_heard = now;
      clients_.splice(clients_.end(), clients_, client.at);
      continue;
    }
    // Data may have arrived since the wait ended: a client that sent something is not idle.
    const Read read = read_once(client, now);
    if (read != Read::drained) {
      after_read(client, read);
      if (client.retired) drop_retired();
      continue;  // moved to the back, or gone
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
  if (closing_) return;
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
  for (const auto& client : clients_)
    if (client->reading && !client->retired) unread.push_back(client.get());
  std::vector<Client*> still;
  while (!unread.empty()) {
    still.clear();
    for (Client* client : unread) {
      const auto now = SteadyClock::now();
      if (now >= deadline) {
        input_.logger_.debug("stopped with clients still sending",
                             {{"path", options_.path}, {"clients", unread.size()}});
        return drop_retired();
      }
      const Read read = read_once(*client, now);
      after_read(*client, read);
      // Paused (too many replies owed) or gone: not read further.
      if (read == Read::more && client->reading && !client->retired) still.push_back(client);
    }
    unread.swap(still);
  }
  drop_retired();
}

void UnixSocketInput::Session::write_owed_replies() {
  const auto deadline = SteadyClock::now() + kStopReplyBudget;
  // Nothing more is read or accepted; the stop signal stays readable, so it is not watched.
  watch(stop_.fd(), &stop_tag, EPOLL_CTL_DEL);
  if (accepting_) pause_accepting(SteadyClock::now());
  closing_ = true;
  for (const auto& client : clients_) {
    client->reading = false;
    client->ended = true;  // retired once it is owed nothing
    write_replies(*client);
  }
  drop_retired();
  epoll_event events[kMaxEvents];
  while (!clients_.empty()) {
    const auto now = SteadyClock::now();
    if (now >= deadline) return;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    const int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, static_cast<int>(left));
    if (n < 0 && errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &wakeup_tag) {
        wakeup_->clear();
        write_ready_replies();
      } else if (tag != &listener_tag && tag != &stop_tag) {
        on_client_event(*static_cast<Client*>(tag), events[i].events, now);
      }
    }
    drop_retired();
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
  return {served_.load(), refused_.load(), closed_idle_.load(), replies_dropped_.load()};
}

void UnixSocketInput::count(std::atomic<std::uint64_t>& counter, std::string_view metric,
                            std::uint64_t n) {
  counter.fetch_add(n);
  if (metrics_ != nullptr) metrics_->add_metric(metric, static_cast<std::int64_t>(n));
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
    session.write_owed_replies();
  }  // every client closed; a partial line still pending is dropped
  release_path();
  const UnixSocketCounters c = counters();
  logger_.info("unix input stopped", {{"path", options_.path},
                                      {"clients_served", c.served},
                                      {"clients_refused", c.refused},
                                      {"clients_closed_idle", c.closed_idle},
                                      {"replies_dropped", c.replies_dropped}});
}

}  // namespace crosscut::local_inputs
