// Prints a configuration tree as YAML, with secrets redacted (for `validate --print`).
#pragma once

#include <string>

#include "crosscut/sdk/config.hpp"

namespace crosscut::config {

// Values of options declared secret, and of map entries whose key names a credential
// (password, secret, token, api key, sasl/ssl key material), are printed as "<redacted>";
// so are passwords inside URLs (scheme://user:password@host).
std::string print_yaml(const sdk::ConfigNode& root);

// True for keys that hold credentials whatever schema declares them (free-form maps such as
// librdkafka `properties`).
bool looks_like_secret_key(std::string_view key);

}  // namespace crosscut::config
