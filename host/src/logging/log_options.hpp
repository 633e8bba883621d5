// The options of the `logging` configuration section, already validated.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/options.hpp"
#include "crosscut/sdk/overflow.hpp"

namespace crosscut::logging {

using sdk::OverflowPolicy;

struct PiiOptions {
  bool enabled = true;
  // Built-in pattern names: phone_kr, email, card, bearer_token.
  std::vector<std::string> patterns{"phone_kr", "email", "card", "bearer_token"};
  std::vector<std::string> custom;  // RE2 syntax
  // Field names (case-insensitive) whose values are always masked, at any depth.
  std::vector<std::string> keys{"api_key", "apikey", "api_secret",   "secret",       "password",
                                "passwd",  "token",  "access_token", "authorization"};
};

struct LogSamplingOptions {
  std::uint32_t per_message_per_second = 100;  // 0: no sampling
};

// The queue each logging thread owns, between it and the logging thread.
struct LogQueueOptions {
  sdk::ByteSize capacity{1u << 20};                 // per thread
  OverflowPolicy overflow = OverflowPolicy::block;  // block or drop_newest
};

struct LogOptions {
  sdk::Level level = sdk::Level::info;
  // Per-logger levels; a name also covers its dotted children ("ws" covers "ws.upbit").
  std::vector<std::pair<std::string, sdk::Level>> levels;
  std::chrono::minutes utc_offset{0};  // added to UTC in timestamps (`timezone`)
  PiiOptions pii;
  LogSamplingOptions sampling;
  LogQueueOptions queue;
  // Write out the queues and a CRITICAL record on a fatal signal or std::terminate.
  bool crash_handler = true;
};

}  // namespace crosscut::logging
