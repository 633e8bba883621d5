#include "redis_url.hpp"

#include <charconv>
#include <optional>

namespace crosscut::redis {
namespace {

bool parse_number(std::string_view s, int& out, int max) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0 || v > max) return false;
  out = v;
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding for credentials (a password may contain '@' or ':'). Only '%' and two hex
// digits is an escape (std::from_chars would also take "%-1"); anything else stays as written.
std::string decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int high = hex_digit(s[i + 1]);
      const int low = hex_digit(s[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

bool has_control(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
  return false;
}

// Part of the URL quoted in a message: short, and on one line.
std::string shown(std::string_view s) {
  std::string out(s.substr(0, 64));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  if (s.size() > 64) out += "...";
  return out;
}

}  // namespace

std::string RedisAddress::describe() const {
  if (!unix_path.empty()) return unix_path;
  // An IPv6 address in brackets, as in the URL: "::1:6379" would be ambiguous.
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
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
    // hiredis takes a C string: a NUL would cut the path short.
    if (has_control(a.unix_path)) {
      error = "unix socket path '" + shown(a.unix_path) + "' contains a control character";
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
      error = "database '" + shown(db) + "' is not a number";
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
  // host, host:port, [ipv6] or [ipv6]:port; hiredis takes the IPv6 address without brackets.
  std::string_view host = authority;
  std::optional<std::string_view> port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    std::string_view after =
        close == std::string_view::npos ? std::string_view() : authority.substr(close + 1);
    if (close == std::string_view::npos || (!after.empty() && after.front() != ':')) {
      error = "expected [IPv6 address] or [IPv6 address]:port, e.g. redis://[::1]:6379/0";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos || host.find_first_of("[]") != host.npos) {
      error = "brackets in a Redis URL hold an IPv6 address, e.g. redis://[::1]:6379/0";
      return std::nullopt;
    }
    if (!after.empty()) port = after.substr(1);
  } else {
    if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.find(':') != std::string_view::npos) {
      error = "an IPv6 address needs brackets, e.g. redis://[::1]:6379/0";
      return std::nullopt;
    }
    if (host.find_first_of("[]") != std::string_view::npos) {
      error = "host '" + shown(host) + "' has an unbalanced '[' or ']'";
      return std::nullopt;
    }
  }
  if (port && (!parse_number(*port, a.port, 65535) || a.port == 0)) {
    error = "port '" + shown(*port) + "' is not a port number";
    return std::nullopt;
  }
  a.host = std::string(host);
  if (a.host.empty()) {
    error = "no host in '" + std::string(url.substr(0, 8)) + "…'";
    return std::nullopt;
  }
  if (has_control(a.host) || a.host.find(' ') != std::string::npos) {
    error = "host '" + shown(a.host) + "' contains a space or a control character";
    return std::nullopt;
  }
  return a;
}

}  // namespace crosscut::redis
