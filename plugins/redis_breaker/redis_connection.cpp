#include "redis_connection.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <cerrno>

namespace crosscut::redis {
namespace {

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

Reply copy_reply(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      for (std::size_t i = 0; i < r->elements; ++i)
        out.elements.push_back(copy_reply(r->element[i]));
      break;
    default:
      out.type = Reply::Type::nil;
  }
  return out;
}

}  // namespace

RedisConnection::RedisConnection(RedisAddress address, std::chrono::milliseconds timeout)
    : address_(std::move(address)), timeout_(timeout) {}

RedisConnection::~RedisConnection() {
  close();
}

void RedisConnection::close() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

bool RedisConnection::ensure_connected(ConnectionFailure& failure) {
  if (ctx_) return true;
  timeval tv = to_timeval(timeout_);
  redisContext* c = address_.unix_path.empty()
                        ? redisConnectWithTimeout(address_.host.c_str(), address_.port, tv)
                        : redisConnectUnixWithTimeout(address_.unix_path.c_str(), tv);
  if (!c) {
    failure.message = "cannot allocate a Redis connection";
    return false;
  }
  if (c->err) {
    failure.message = std::string(c->errstr) + " (" + address_.describe() + ")";
    redisFree(c);
    return false;
  }
  redisSetTimeout(c, tv);
  ctx_ = c;
  Reply reply;
  auto setup = [&](const std::vector<std::string_view>& args, const char* what) {
    if (!command(args, reply, failure)) return false;
    if (reply.is_error()) {
      failure.message = std::string(what) + " refused by " + address_.describe() + ": " + reply.str;
      close();
      return false;
    }
    return true;
  };
  if (!address_.password.empty()) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!address_.user.empty()) auth.push_back(address_.user);
    auth.push_back(address_.password);
    if (!setup(auth, "AUTH")) return false;
  }
  if (address_.db != 0) {
    std::string db = std::to_string(address_.db);
    if (!setup({"SELECT", db}, "SELECT")) return false;
  }
  // A cheap check that the peer speaks Redis at all (a wrong port may hold another server).
  if (!setup({"PING"}, "PING")) return false;
  if (reply.type != Reply::Type::status || reply.str != "PONG") {
    failure.message =
        "unexpected PING reply from " + address_.describe() + " (not a Redis server?)";
    close();
    return false;
  }
  return true;
}

bool RedisConnection::failed(ConnectionFailure& failure, const char* fallback_message) {
  failure.message = std::string(ctx_->errstr[0] ? ctx_->errstr : fallback_message) + " (" +
                    address_.describe() + ")";
  if (ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
    failure.message = "command timed out after " + std::to_string(timeout_.count()) + " ms (" +
                      address_.describe() + ")";
  close();
  return false;
}

bool RedisConnection::command(const std::vector<std::string_view>& args, Reply& reply,
                              ConnectionFailure& failure) {
  if (!send(args, failure)) return false;
  void* r = nullptr;
  if (redisGetReply(ctx_, &r) != REDIS_OK || !r) return failed(failure, "no reply");
  reply = copy_reply(static_cast<redisReply*>(r));
  freeReplyObject(r);
  return true;
}

bool RedisConnection::send(const std::vector<std::string_view>& args, ConnectionFailure& failure) {
  if (!ctx_) {
    failure.message = "not connected to " + address_.describe();
    return false;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
      REDIS_OK)
    return failed(failure, "cannot queue the command");
  int done = 0;
  while (!done)
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) return failed(failure, "cannot send");
  return true;
}

bool RedisConnection::pipeline(const std::vector<std::vector<std::string>>& commands,
                               std::vector<Reply>& replies, ConnectionFailure& failure) {
  if (!ctx_) {
    failure.message = "not connected to " + address_.describe();
    return false;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& args : commands) {
    argv.clear();
    lens.clear();
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
        REDIS_OK)
      return failed(failure, "cannot queue the command");
  }
  replies.clear();
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* r = nullptr;
    if (redisGetReply(ctx_, &r) != REDIS_OK || !r) return failed(failure, "no reply");
    replies.push_back(copy_reply(static_cast<redisReply*>(r)));
    freeReplyObject(r);
  }
  return true;
}

bool RedisConnection::drain_reader(std::vector<Reply>& out, ConnectionFailure& failure) {
  for (;;) {
    void* r = nullptr;
    if (redisGetReplyFromReader(ctx_, &r) != REDIS_OK) return failed(failure, "protocol error");
    if (!r) return true;
    out.push_back(copy_reply(static_cast<redisReply*>(r)));
    freeReplyObject(r);
  }
}

bool RedisConnection::read_pushed(std::vector<Reply>& out, std::chrono::milliseconds wait,
                                  int wake_fd, ConnectionFailure& failure) {
  if (!ctx_) {
    failure.message = "not connected to " + address_.describe();
    return false;
  }
  const std::size_t before = out.size();
  if (!drain_reader(out, failure)) return false;
  if (out.size() > before) return true;
  pollfd fds[2] = {{ctx_->fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
  int n = ::poll(fds, wake_fd >= 0 ? 2 : 1, static_cast<int>(wait.count()));
  if (n < 0 && errno != EINTR) {
    failure.message = "poll failed (" + address_.describe() + ")";
    close();
    return false;
  }
  if (n > 0 && fds[0].revents != 0) {
    // Readable, hung up or failed: the read says which (a hang-up reads end of stream).
    if (redisBufferRead(ctx_) != REDIS_OK) return failed(failure, "connection lost");
    return drain_reader(out, failure);
  }
  return true;
}

}  // namespace crosscut::redis
