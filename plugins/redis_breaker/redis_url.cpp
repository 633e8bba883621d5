#include "redis_url.hpp"

#include <charconv>

namespace crosscut::redis {
namespace {

bool parse_number(std::string_view s, int& out, int max) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0 || v > max) return false;
  out = v;
  return true;
}

// Percent-decoding for credentials (a password may contain '@' or ':').
std::string decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

std::string RedisAddress::describe() const {
  return unix_path.empty() ? host + ":" + std::to_string(port) : unix_path;
}

std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string& error) {
  RedisAddress a;
  if (url.rfind("unix://", 0) == 0) {
    std::string_view rest = url.substr(7);
    auto q = rest.find('?');
    a.unix_path = std::string(rest.substr(0, q));
    if (a.unix_path.empty() || a.unix_path.front() != '/') {
      error = "unix socket URL needs an absolute path, e.g. unix:///run/redis/redis.sock";
      return std::nullopt;
    }
    if (q != std::string_view::npos) {
      std::string_view query = rest.substr(q + 1);
      if (query.rfind("db=", 0) != 0 || !parse_number(query.substr(3), a.db, 1 << 20)) {
        error = "unix socket URL accepts only '?db=N'";
        return std::nullopt;
      }
    }
    return a;
  }
  if (url.rfind("redis://", 0) != 0) {
    error = "expected redis://[user:password@]host:port/db or unix:///path";
    return std::nullopt;
  }
  std::string_view rest = url.substr(8);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_number(db, a.db, 1 << 20)) {
      error = "database '" + std::string(db) + "' is not a number";
      return std::nullopt;
    }
  }
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = cred.find(':');
    if (colon == std::string_view::npos) {
      a.password = decode(cred);
    } else {
      a.user = decode(cred.substr(0, colon));
      a.password = decode(cred.substr(colon + 1));
    }
  }
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    if (!parse_number(authority.substr(colon + 1), a.port, 65535) || a.port == 0) {
      error = "port '" + std::string(authority.substr(colon + 1)) + "' is not a port number";
      return std::nullopt;
    }
    authority = authority.substr(0, colon);
  }
  a.host = std::string(authority);
  if (a.host.empty()) {
    error = "no host in '" + std::string(url.substr(0, 8)) + "…'";
    return std::nullopt;
  }
  return a;
}

}  // namespace crosscut::redis
