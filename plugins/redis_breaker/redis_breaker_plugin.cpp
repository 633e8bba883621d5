// Plugin `redis_breaker`: breaker backend `redis`.
#include "crosscut/sdk/sdk.hpp"
#include "redis_breaker_backend.hpp"

namespace {

using namespace crosscut::sdk;
using crosscut::redis::RedisBreakerBackend;
using crosscut::redis::RedisBreakerOptions;
using crosscut::redis::UnavailablePolicy;

ConfigSchema redis_schema() {
  return {
      {.key = "url",
       .type = OptionType::string,
       .default_value = "redis://127.0.0.1:6379/0",
       .description = "redis://[user:password@]host:port/db or unix:///path[?db=N]"},
      {.key = "password",
       .type = OptionType::string,
       .description = "password (overrides one in the URL); use ${ENV}",
       .secret = true},
      {.key = "key_prefix",
       .type = OptionType::string,
       .default_value = "crosscut:cb",
       .description = "keys are <prefix>:{<resource>}:s and :f"},
      {.key = "on_unavailable",
       .type = OptionType::string,
       .default_value = "local",
       .description = "while Redis is unreachable: local breakers, allow every call, or deny",
       .choices = {"local", "allow", "deny"}},
      {.key = "command_timeout",
       .type = OptionType::duration,
       .default_value = "50ms",
       .description = "longest wait for Redis in any call (connect included)",
       .positive = true},
      {.key = "use_server_time",
       .type = OptionType::boolean,
       .default_value = "true",
       .description = "take time from Redis TIME (false: from this host's clock)"},
      {.key = "key_ttl",
       .type = OptionType::duration,
       .default_value = "24h",
       .description = "idle breaker keys expire after this (at least twice window and timeout)",
       .positive = true},
      {.key = "connections",
       .type = OptionType::integer,
       .default_value = "2",
       .description = "connections in the pool",
       .min = 1},
      {.key = "reconnect_backoff_max",
       .type = OptionType::duration,
       .default_value = "5s",
       .description = "longest pause between reconnection attempts",
       .positive = true},
  };
}

class RedisBreakerComponent : public RedisBreakerBackend {
 public:
  RedisBreakerComponent(const ConfigView& o, HostContext& host)
      : RedisBreakerBackend(read(o), host) {}

 private:
  static RedisBreakerOptions read(const ConfigView& o) {
    RedisBreakerOptions r;
    std::string error;
    auto address = crosscut::redis::parse_redis_url(o.get_string("url"), error);
    if (!address) o.fail("url", error);
    r.address = *address;
    if (o.has("password")) r.address.password = o.get_string("password");
    r.key_prefix = o.get_string("key_prefix");
    if (r.key_prefix.find_first_of("{}") != std::string::npos)
      o.fail("key_prefix",
             "must not contain '{' or '}' (the hash tag is added around the resource key)");
    std::string policy = o.get_string("on_unavailable");
    r.on_unavailable = policy == "allow"  ? UnavailablePolicy::allow
                       : policy == "deny" ? UnavailablePolicy::deny
                                          : UnavailablePolicy::local;
    r.command_timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(o.get_duration("command_timeout"));
    if (r.command_timeout.count() < 1) o.fail("command_timeout", "must be at least 1ms");
    r.use_server_time = o.get_bool("use_server_time");
    r.key_ttl = std::chrono::duration_cast<std::chrono::milliseconds>(o.get_duration("key_ttl"));
    r.connections = static_cast<std::size_t>(o.get_int("connections"));
    if (r.connections > 64) o.fail("connections", "must be at most 64");
    r.reconnect_backoff_max = std::chrono::duration_cast<std::chrono::milliseconds>(
        o.get_duration("reconnect_backoff_max"));
    return r;
  }
};

PluginDescriptor describe() {
  return {
      "redis_breaker",
      "1.0.0",
      {make_factory<RedisBreakerComponent>(
          ComponentKind::breaker_backend, "redis",
          "Breaker state shared through Redis (one Lua script per operation)", redis_schema())}};
}

}  // namespace

CROSSCUT_PLUGIN(describe)
