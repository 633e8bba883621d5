// Building a librdkafka configuration from component options, with every librdkafka refusal
// turned into a ConfigError at the option that caused it (librdkafka's own words included).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/log.hpp"
#include "kafka_handle.hpp"

namespace crosscut::kafka {

// One librdkafka property and the option it came from (for error positions).
struct Property {
  std::string name;
  std::string value;
  std::string option;  // the component option that set it; empty: from `properties:`
};

// Sets `properties` on a new configuration, then each entry of the `properties:` map of
// `options` (which may override them). Throws ConfigError located at the offending option
// (for `properties:` entries, at the entry itself) when librdkafka refuses a name or a value.
ConfHandle make_conf(const std::vector<Property>& properties, const sdk::ConfigView& options);

// What librdkafka's callbacks receive as the client's opaque: each client component derives
// from it, so the log callback finds the component's logger.
class ClientOpaque {
 public:
  explicit ClientOpaque(sdk::Logger& log) : log_(log) {}
  sdk::Logger& log() const { return log_; }

 protected:
  ~ClientOpaque() = default;

 private:
  sdk::Logger& log_;
};

// Makes `client` the opaque of clients made from `conf` and forwards librdkafka's log lines
// to its logger (called on librdkafka's own threads, so the logger must be thread-safe).
void set_client_opaque(rd_kafka_conf_t* conf, ClientOpaque& client);

// The ClientOpaque given to set_client_opaque, from a callback's opaque argument.
inline ClientOpaque& client_of(void* opaque) {
  return *static_cast<ClientOpaque*>(opaque);
}

// librdkafka's syslog-style levels as ours.
sdk::Level level_of_syslog(int level);

// A duration option as a librdkafka value in whole milliseconds (rounded up).
std::string milliseconds(const sdk::ConfigView& options, std::string_view key,
                         std::chrono::milliseconds fallback);

}  // namespace crosscut::kafka
