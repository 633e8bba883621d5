#include "redis_breaker_options.hpp"

#include <stdexcept>

namespace crosscut::redis {
namespace {

// A cluster node as `nodes` lists it: a redis:// URL, or host:port.
std::optional<RedisAddress> parse_seed(const std::string& node, std::string& error) {
  const std::string url = node.find("://") == std::string::npos ? "redis://" + node : node;
  auto address = parse_redis_url(url, error);
  if (address && !address->unix_path.empty()) {
    error = "a Redis Cluster node is reached over TCP (redis://host:port)";
    return std::nullopt;
  }
  return address;
}

}  // namespace

// The config spellings of on_unavailable, as the table's choices have them.
std::string_view unavailable_policy_name(UnavailablePolicy policy) {
  switch (policy) {
    case UnavailablePolicy::local:
      return "local";
    case UnavailablePolicy::allow:
      return "allow";
    case UnavailablePolicy::deny:
      return "deny";
  }
  return "local";
}

const sdk::OptionTable<RedisBreakerOptions>& redis_breaker_options_table() {
  using O = RedisBreakerOptions;
  static const sdk::OptionTable<O> table{
      sdk::bind_option("url", &O::url,
                       "redis://[user:password@]host:port/db or unix:///path[?db=N]"),
      sdk::bind_option("password", &O::password, "password (overrides one in the URL); use ${ENV}")
          .secret(),
      sdk::bind_option("key_prefix", &O::key_prefix,
                       "keys are <prefix>:{<resource>}:s, :f, :q and :b"),
      sdk::bind_option("on_unavailable", &O::on_unavailable,
                       "while Redis is unreachable: local breakers, allow every call, or deny")
          .choices({{"local", UnavailablePolicy::local},
                    {"allow", UnavailablePolicy::allow},
                    {"deny", UnavailablePolicy::deny}}),
      sdk::bind_option("command_timeout", &O::command_timeout,
                       "longest wait for Redis in any call (connect included)")
          .positive(),
      sdk::bind_option("use_server_time", &O::use_server_time,
                       "take time from Redis TIME (false: from this host's clock)"),
      sdk::bind_option(
          "key_ttl", &O::key_ttl,
          "idle breaker keys expire after this (at least twice window, timeout, max_timeout)")
          .positive(),
      sdk::bind_option("connections", &O::connections, "connections in the pool").min(1).max(64),
      sdk::bind_option("reconnect_backoff_max", &O::reconnect_backoff_max,
                       "longest pause between reconnection attempts")
          .positive(),
      sdk::bind_option("local_view", &O::local_view,
                       "answer operations that change nothing from a local view kept current by "
                       "Redis publications (false: every operation is a round trip)"),
      sdk::bind_option("view_refresh", &O::view_refresh,
                       "period of the local view's re-read and subscription check")
          .positive(),
      sdk::bind_option("cluster", &O::cluster,
                       "url names a node of a Redis Cluster: each breaker goes to the master "
                       "serving its slot (MOVED and ASK followed)"),
      sdk::bind_option(
          "nodes", &O::nodes,
          "cluster: more nodes to read the slot map from (host:port or redis:// URLs)"),
  };
  return table;
}

RedisAddress checked_address(const RedisBreakerOptions& options, const OptionProblem& fail) {
  std::string error;
  auto address = parse_redis_url(options.url, error);
  if (!address) fail("url", error);
  if (options.key_prefix.find_first_of("{}") != std::string::npos)
    fail("key_prefix",
         "must not contain '{' or '}' (the hash tag is added around the resource key)");
  if (!address) throw std::logic_error("redis options: the problem reporter returned");
  if (options.password) address->password = *options.password;
  if (options.cluster) {
    if (!address->unix_path.empty())
      fail("url", "a Redis Cluster node is reached over TCP (redis://host:port)");
    if (address->db != 0) fail("url", "a Redis Cluster has database 0 only");
    for (const auto& node : options.nodes) {
      std::string node_error;
      if (!parse_seed(node, node_error)) fail("nodes", "'" + node + "': " + node_error);
    }
  } else if (!options.nodes.empty()) {
    fail("nodes", "needs cluster: true");
  }
  return *address;
}

std::vector<RedisAddress> seed_addresses(const RedisBreakerOptions& options,
                                         const RedisAddress& address) {
  std::vector<RedisAddress> out{address};
  for (const auto& node : options.nodes) {
    std::string error;
    if (auto parsed = parse_seed(node, error)) {
      parsed->user = address.user;
      parsed->password = address.password;
      out.push_back(*parsed);
    }
  }
  return out;
}

}  // namespace crosscut::redis
