// The redis backend's option table and the checks it cannot express, without a server: every
// case here is refused before the backend connects.
#include <gtest/gtest.h>

#include <stdexcept>

#include "config/option_validator.hpp"
#include "redis_breaker/redis_breaker_backend.hpp"
#include "support/config_nodes.hpp"
#include "support/test_host.hpp"

extern "C" const crosscut_plugin_info* crosscut_plugin_entry();

namespace crosscut::testing {
namespace {

using redis::RedisBreakerBackend;
using redis::RedisBreakerOptions;
using redis::UnavailablePolicy;

const sdk::ComponentFactory& redis_factory() {
  const auto& d = *static_cast<const sdk::PluginDescriptor*>(crosscut_plugin_entry()->descriptor);
  return d.components.at(0);
}

// Validates `node` as the host does, then runs the factory: the first problem, or "(no error)".
std::string factory_error(sdk::ConfigNode node) {
  TestHost host;
  return config_error([&] {
    config::validate_options(node, redis_factory().schema, {nullptr, "breakers.backend"}, {"type"});
    redis_factory().create(sdk::ConfigView(&node, nullptr, "breakers.backend"), host);
  });
}

TEST(RedisBreakerPlugin, DescribesTheRedisBackend) {
  const auto& f = redis_factory();
  EXPECT_EQ(f.kind, sdk::ComponentKind::breaker_backend);
  EXPECT_EQ(f.type, "redis");
}

TEST(RedisBreakerOptions, TableHasTheDocumentedDefaults) {
  const auto& schema = RedisBreakerBackend::options_table().schema();
  auto spec = [&](const std::string& key) -> const sdk::OptionSpec& {
    for (const auto& s : schema)
      if (s.key == key) return s;
    throw std::out_of_range(key);
  };
  ASSERT_EQ(schema.size(), 13u);
  EXPECT_EQ(spec("cluster").default_value, "false");
  EXPECT_EQ(spec("nodes").default_value, "");
  EXPECT_EQ(spec("url").default_value, "redis://127.0.0.1:6379/0");
  EXPECT_TRUE(spec("password").secret);
  EXPECT_EQ(spec("password").default_value, "");
  EXPECT_EQ(spec("key_prefix").default_value, "crosscut:cb");
  EXPECT_EQ(spec("on_unavailable").default_value, "local");
  EXPECT_EQ(spec("on_unavailable").choices, (std::vector<std::string>{"local", "allow", "deny"}));
  EXPECT_EQ(spec("command_timeout").default_value, "50ms");
  EXPECT_TRUE(spec("command_timeout").positive);
  EXPECT_EQ(spec("use_server_time").default_value, "true");
  EXPECT_EQ(spec("key_ttl").default_value, "24h");
  EXPECT_EQ(spec("connections").default_value, "2");
  EXPECT_EQ(spec("connections").min, 1);
  EXPECT_EQ(spec("connections").max, 64);
  EXPECT_EQ(spec("reconnect_backoff_max").default_value, "5s");
  EXPECT_EQ(spec("local_view").default_value, "true");
  EXPECT_EQ(spec("view_refresh").default_value, "1s");
  EXPECT_TRUE(spec("view_refresh").positive);
}

TEST(RedisBreakerOptions, ReadsEveryOption) {
  sdk::ConfigNode node = map({{"url", scalar("redis://cache:6380/2")},
                              {"password", scalar("s3cret")},
                              {"key_prefix", scalar("app:cb")},
                              {"on_unavailable", scalar("deny")},
                              {"command_timeout", scalar("20ms")},
                              {"use_server_time", scalar("false")},
                              {"key_ttl", scalar("2h")},
                              {"connections", scalar("4")},
                              {"reconnect_backoff_max", scalar("1s")},
                              {"local_view", scalar("false")},
                              {"view_refresh", scalar("250ms")}});
  const RedisBreakerOptions o =
      RedisBreakerBackend::options_table().read(sdk::ConfigView(&node, nullptr, ""));
  EXPECT_EQ(o.url, "redis://cache:6380/2");
  EXPECT_EQ(o.password, "s3cret");
  EXPECT_EQ(o.key_prefix, "app:cb");
  EXPECT_EQ(o.on_unavailable, UnavailablePolicy::deny);
  EXPECT_EQ(o.command_timeout, std::chrono::milliseconds(20));
  EXPECT_FALSE(o.use_server_time);
  EXPECT_EQ(o.key_ttl, std::chrono::hours(2));
  EXPECT_EQ(o.connections, 4u);
  EXPECT_EQ(o.reconnect_backoff_max, std::chrono::seconds(1));
  EXPECT_FALSE(o.local_view);
  EXPECT_EQ(o.view_refresh, std::chrono::milliseconds(250));

  // The password option replaces one in the URL; absent, the URL's stays.
  auto no_problem = [](std::string_view key, const std::string& problem) {
    ADD_FAILURE() << key << ": " << problem;
    throw std::logic_error(problem);
  };
  EXPECT_EQ(redis::checked_address(o, no_problem).password, "s3cret");
  RedisBreakerOptions in_url;
  in_url.url = "redis://:from-url@cache:6380/2";
  EXPECT_EQ(redis::checked_address(in_url, no_problem).password, "from-url");
}

TEST(RedisBreakerOptions, BoundsAreTheValidatorsAndUrlsAndPrefixesTheBackends) {
  // A bound in the validator's own wording; the position, bound and value are ours.
  const std::string at = "<config>:0:0: breakers.backend.connections: must be ";
  const std::string too_many = factory_error(map({{"connections", scalar("65")}}));
  EXPECT_EQ(too_many.rfind(at, 0), 0u) << too_many;
  EXPECT_NE(too_many.find("64 (got 65)"), std::string::npos) << too_many;
  const std::string none = factory_error(map({{"connections", scalar("0")}}));
  EXPECT_EQ(none.rfind(at, 0), 0u) << none;
  EXPECT_NE(none.find(" 1 "), std::string::npos) << none;
  EXPECT_NE(none.find("(got 0)"), std::string::npos) << none;
  EXPECT_EQ(factory_error(map({{"command_timeout", scalar("0ms")}})),
            "<config>:0:0: breakers.backend.command_timeout: must be > 0 (got 0ms)");
  EXPECT_EQ(factory_error(map({{"url", scalar("http://localhost", 3, 9)}})),
            "<config>:3:9: breakers.backend.url: expected redis://[user:password@]host:port/db or "
            "unix:///path");
  EXPECT_EQ(factory_error(map({{"key_prefix", scalar("a{b}", 4, 15)}})),
            "<config>:4:15: breakers.backend.key_prefix: must not contain '{' or '}' (the hash "
            "tag is added around the resource key)");

  // A cluster has database 0 only and nodes that parse; nodes need a cluster.
  EXPECT_EQ(factory_error(map(
                {{"cluster", scalar("true")}, {"url", scalar("redis://127.0.0.1:7000/3", 2, 8)}})),
            "<config>:2:8: breakers.backend.url: a Redis Cluster has database 0 only");
  EXPECT_EQ(factory_error(map({{"cluster", scalar("true")},
                               {"nodes", sequence({scalar("127.0.0.1:x")}, 5, 10)}})),
            "<config>:5:10: breakers.backend.nodes: '127.0.0.1:x': port 'x' is not a port number");
  EXPECT_EQ(factory_error(map({{"nodes", sequence({scalar("127.0.0.1:7001")}, 6, 10)}})),
            "<config>:6:10: breakers.backend.nodes: needs cluster: true");

  // Built directly, the backend refuses the same options with an exception.
  TestHost host;
  RedisBreakerOptions bad_url;
  bad_url.url = "redis://host:notaport/0";
  EXPECT_THROW(RedisBreakerBackend backend(bad_url, host), std::invalid_argument);
}

}  // namespace
}  // namespace crosscut::testing
