// One synchronous connection to Redis (hiredis), with every network wait bounded by a
// timeout. After any I/O or protocol error the connection is closed: hiredis cannot resync a
// stream after a timed-out command.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "redis_url.hpp"

struct redisContext;
struct redisReply;

namespace crosscut::redis {

// A reply, copied out of hiredis into plain values.
struct Reply {
  enum class Type { nil, string, integer, array, status, error };
  Type type = Type::nil;
  std::string str;  // string, status, error
  long long integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::error; }
};

// What happened to a command that got no reply.
struct ConnectionFailure {
  std::string message;  // one line, e.g. "connection refused (127.0.0.1:6379)"
};

// Not thread-safe: one user at a time (the backend keeps a pool).
class RedisConnection {
 public:
  RedisConnection(RedisAddress address, std::chrono::milliseconds timeout);
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;
  ~RedisConnection();

  // Connects (and AUTHs, SELECTs) if not connected. False with `failure` set when it could
  // not; an AUTH refusal is reported as such.
  bool ensure_connected(ConnectionFailure& failure);
  // Sends one command and reads its reply. False (and the connection closed) on an I/O or
  // protocol error or a timeout; a Redis error reply is a successful call returning an error.
  bool command(const std::vector<std::string_view>& args, Reply& reply, ConnectionFailure& failure);
  // Sends every command, then reads their replies in order (one round trip for all).
  bool pipeline(const std::vector<std::vector<std::string>>& commands, std::vector<Reply>& replies,
                ConnectionFailure& failure);
  // Sends one command without reading its reply (a subscribed connection's PING).
  bool send(const std::vector<std::string_view>& args, ConnectionFailure& failure);
  // For a subscribed connection: appends the messages that arrive within `wait` to `out`,
  // returning early when `wake_fd` (if >= 0) becomes readable. False (and the connection
  // closed) when the connection fails.
  bool read_pushed(std::vector<Reply>& out, std::chrono::milliseconds wait, int wake_fd,
                   ConnectionFailure& failure);
  bool connected() const { return ctx_ != nullptr; }
  void close();

 private:
  RedisAddress address_;
  std::chrono::milliseconds timeout_;
  redisContext* ctx_ = nullptr;

  bool failed(ConnectionFailure& failure, const char* fallback_message);
  bool drain_reader(std::vector<Reply>& out, ConnectionFailure& failure);
};

}  // namespace crosscut::redis
