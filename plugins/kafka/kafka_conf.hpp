// Building a librdkafka client from component options, with every librdkafka refusal turned
// into a ConfigError at the option that caused it (librdkafka's own words included): the
// setup the `kafka` sink and input share.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <string>
#include <vector>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/plugin.hpp"

namespace crosscut::kafka {

// One librdkafka property and the option it came from (for error positions).
struct Property {
  std::string name;
  std::string value;
  std::string option;  // the component option that set it; empty: set by the component itself
};

// What librdkafka's callbacks receive as the client's opaque: each client component derives
// from it, so the callbacks find the component and its logger.
class ClientOpaque {
 public:
  explicit ClientOpaque(sdk::Logger& log) : log_(log) {}
  sdk::Logger& log() const { return log_; }

 protected:
  ~ClientOpaque() = default;

 private:
  sdk::Logger& log_;
};

// The ClientOpaque given to make_client, from a callback's opaque argument.
inline ClientOpaque& client_of(void* opaque) {
  return *static_cast<ClientOpaque*>(opaque);
}

using ErrorCallback = void (*)(rd_kafka_t* rk, int error, const char* reason, void* opaque);
// Sets the callbacks of one kind of client (delivery reports, rebalances).
using ConfigureCallback = void (*)(rd_kafka_conf_t* conf);

// A new client of `type`: `properties`, then each entry of the `properties:` map of `options`
// (which may override them); `client` as its opaque, with librdkafka's log lines forwarded to
// its logger (called on librdkafka's own threads, so the logger must be thread-safe);
// `on_error` as its error callback; then what `configure` sets. Throws ConfigError located at
// the offending option (for `properties:` entries, at the entry itself) when librdkafka
// refuses a name or a value, and at the component when it refuses the configuration as a
// whole.
rd_kafka_t* make_client(rd_kafka_type_t type, const std::vector<Property>& properties,
                        const sdk::ConfigView& options, ClientOpaque& client,
                        ErrorCallback on_error, ConfigureCallback configure);

// Has librdkafka check the configuration make_client() would use, as a whole, with the same
// errors, but on a client given no brokers: nothing is contacted and the client is destroyed
// at once (`crosscut validate`).
void check_client(rd_kafka_type_t type, const std::vector<Property>& properties,
                  const sdk::ConfigView& options);

// Connects a client of `type` with that configuration and asks the cluster for its metadata
// within `timeout` (`crosscut validate --check-connections`).
sdk::ServerCheck probe_brokers(rd_kafka_type_t type, const std::vector<Property>& properties,
                               const sdk::ConfigView& options, const std::string& brokers,
                               std::chrono::milliseconds timeout);

// librdkafka's syslog-style levels as ours.
sdk::Level level_of_syslog(int level);

}  // namespace crosscut::kafka
