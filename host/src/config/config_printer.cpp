#include "config/config_printer.hpp"

#include <yaml-cpp/emitter.h>

#include <algorithm>
#include <cctype>

namespace crosscut::config {
namespace {

constexpr const char* kRedacted = "<redacted>";

// scheme://user:password@host… -> scheme://user:<redacted>@host… (URLs carry credentials).
std::string redact_url_password(const std::string& s) {
  auto scheme = s.find("://");
  if (scheme == std::string::npos) return s;
  auto start = scheme + 3;
  auto at = s.find('@', start);
  auto slash = s.find('/', start);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return s;
  auto colon = s.find(':', start);
  if (colon == std::string::npos || colon > at) return s;
  return s.substr(0, colon + 1) + kRedacted + s.substr(at);
}

void emit(YAML::Emitter& out, const sdk::ConfigNode& n, bool redact) {
  using K = sdk::ConfigNode::Kind;
  switch (n.kind) {
    case K::null:
      out << YAML::Null;
      return;
    case K::scalar:
      if (redact || n.secret) {
        out << kRedacted;
      } else if (n.quoted) {
        out << YAML::DoubleQuoted << redact_url_password(n.scalar);
      } else {
        out << redact_url_password(n.scalar);
      }
      return;
    case K::sequence:
      out << YAML::BeginSeq;
      for (const auto& item : n.items) emit(out, item, redact || n.secret);
      out << YAML::EndSeq;
      return;
    case K::map:
      out << YAML::BeginMap;
      for (const auto& [k, v] : n.entries) {
        out << YAML::Key << k << YAML::Value;
        emit(out, v, redact || n.secret || looks_like_secret_key(k));
      }
      out << YAML::EndMap;
      return;
  }
}

}  // namespace

bool looks_like_secret_key(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* word : {"password", "passwd", "secret", "token", "api_key", "apikey",
                           "credential", "private", "sasl.jaas", "ssl.key"})
    if (k.find(word) != std::string::npos) return true;
  return false;
}

std::string print_yaml(const sdk::ConfigNode& root) {
  YAML::Emitter out;
  emit(out, root, false);
  return std::string(out.c_str()) + "\n";
}

}  // namespace crosscut::config
