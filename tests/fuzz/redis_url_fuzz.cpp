// The Redis URL parser. An accepted URL names a host or an absolute socket path (never both,
// never with a NUL), a port and database in range, credentials percent-decoded as RFC 3986
// says; describe() shows no credentials, and the address written back as a URL (credentials
// percent-encoded) parses to the same address. A refusal is one line.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "redis_breaker/redis_url.hpp"

namespace {

using crosscut::redis::parse_redis_url;
using crosscut::redis::RedisAddress;

[[noreturn]] void finding(const char* what, std::string_view url, const std::string& detail = {}) {
  std::fprintf(stderr, "redis url fuzz finding: %s\n  url: '%.*s'\n  %s\n", what,
               static_cast<int>(url.size()), url.data(), detail.c_str());
  std::abort();
}

std::string percent_encoded(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// RFC 3986 percent-decoding: '%' and two hex digits is a byte, anything else is itself.
std::string percent_decoded(std::string_view s) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The user and password of a redis:// URL, decoded: before the last '@' of the authority,
// split at the first ':' (none: a password alone).
std::pair<std::string, std::string> credentials_of(std::string_view url) {
  std::string_view authority = url.substr(8);
  authority = authority.substr(0, authority.find('/'));
  auto at = authority.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string_view cred = authority.substr(0, at);
  auto colon = cred.find(':');
  if (colon == std::string_view::npos) return {"", percent_decoded(cred)};
  return {percent_decoded(cred.substr(0, colon)), percent_decoded(cred.substr(colon + 1))};
}

std::string url_of(const RedisAddress& a) {
  if (!a.unix_path.empty()) return "unix://" + a.unix_path + "?db=" + std::to_string(a.db);
  const bool ipv6 = a.host.find(':') != std::string::npos;
  return "redis://" + percent_encoded(a.user) + ":" + percent_encoded(a.password) + "@" +
         (ipv6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port) + "/" +
         std::to_string(a.db);
}

std::string fields(const RedisAddress& a) {
  return "host='" + a.host + "' port=" + std::to_string(a.port) + " unix_path='" + a.unix_path +
         "' user='" + a.user + "' password='" + a.password + "' db=" + std::to_string(a.db);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto a = parse_redis_url(url, error);
  if (!a) {
    if (error.empty()) finding("refused without a reason", url);
    if (error.find('\n') != std::string::npos) finding("the reason is not one line", url, error);
    return 0;
  }
  if (a->unix_path.empty() == a->host.empty())
    finding("not exactly one of host and socket path", url, fields(*a));
  if (!a->unix_path.empty() && a->unix_path.front() != '/')
    finding("relative socket path", url, fields(*a));
  // Both reach hiredis as C strings.
  if (a->host.find('\0') != std::string::npos || a->unix_path.find('\0') != std::string::npos)
    finding("a NUL in the host or socket path", url, fields(*a));
  if (a->port < 1 || a->port > 65535) finding("port out of range", url, fields(*a));
  if (a->db < 0 || a->db > (1 << 20)) finding("database out of range", url, fields(*a));

  if (a->unix_path.empty() && credentials_of(url) != std::pair{a->user, a->password})
    finding("credentials decoded wrongly", url, fields(*a));

  const std::string shown = a->describe();
  const bool ipv6 = a->host.find(':') != std::string::npos;
  const std::string host_port =
      (ipv6 ? "[" + a->host + "]" : a->host) + ":" + std::to_string(a->port);
  if (shown != (a->unix_path.empty() ? host_port : a->unix_path))
    finding("describe() is not the host and port or the socket path", url, shown);

  const std::string again_url = url_of(*a);
  std::string again_error;
  auto again = parse_redis_url(again_url, again_error);
  if (!again) finding("the address written back is refused", url, again_url + ": " + again_error);
  if (fields(*again) != fields(*a))
    finding("the address written back parses differently", url,
            fields(*a) + "\n  became " + fields(*again) + " (from " + again_url + ")");
  return 0;
}
