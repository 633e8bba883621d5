// Redis addresses as users write them: redis://[user:password@]host:port/db or unix:///path[?db=N].
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crosscut::redis {

struct RedisAddress {
  std::string host;  // empty for a unix socket
  int port = 6379;
  std::string unix_path;  // set for unix:// addresses
  std::string user;       // ACL user ("" = default user)
  std::string password;   // "" = no AUTH
  int db = 0;

  // "host:port" or the socket path, for messages (never the password).
  std::string describe() const;
};

// Parses `url`; on failure returns nullopt and sets `error` to a one-line reason.
std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string& error);

}  // namespace crosscut::redis
