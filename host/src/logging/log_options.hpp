// The options of the `logging` configuration section (DESIGN §5), already validated.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crosscut/sdk/log.hpp"

namespace crosscut::logging {

enum class OverflowPolicy { block, drop_oldest };

struct PiiOptions {
  bool enabled = true;
  // Built-in pattern names: phone_kr, email, card, bearer_token.
  std::vector<std::string> patterns{"phone_kr", "email", "card", "bearer_token"};
  std::vector<std::string> custom;  // RE2 syntax
  // Field names (case-insensitive) whose values are always masked, at any depth.
  std::vector<std::string> keys{"api_key", "apikey", "api_secret",   "secret",       "password",
                                "passwd",  "token",  "access_token", "authorization"};
};

struct LogOptions {
  sdk::Level level = sdk::Level::info;
  // Per-logger levels; a name also covers its dotted children ("ws" covers "ws.upbit").
  std::vector<std::pair<std::string, sdk::Level>> levels;
  std::chrono::minutes utc_offset{0};  // added to UTC in timestamps
  PiiOptions pii;
  std::uint32_t per_message_per_second = 100;  // 0: no sampling
  std::size_t queue_size = 8192;
  OverflowPolicy overflow = OverflowPolicy::block;
};

}  // namespace crosscut::logging
