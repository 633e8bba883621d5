#include <gtest/gtest.h>

#include "redis_breaker/redis_url.hpp"

using crosscut::redis::parse_redis_url;

TEST(RedisUrl, HostPortDatabaseAndCredentials) {
  std::string err;
  auto a = parse_redis_url("redis://app:p%40ss:word@10.1.2.3:6380/4", err);
  ASSERT_TRUE(a) << err;
  EXPECT_EQ(a->host, "10.1.2.3");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 4);
  EXPECT_EQ(a->user, "app");
  EXPECT_EQ(a->password, "p@ss:word");
  EXPECT_EQ(a->describe(), "10.1.2.3:6380");

  auto b = parse_redis_url("redis://:secret@localhost", err);
  ASSERT_TRUE(b) << err;
  EXPECT_EQ(b->port, 6379);
  EXPECT_EQ(b->db, 0);
  EXPECT_EQ(b->user, "");
  EXPECT_EQ(b->password, "secret");
}

TEST(RedisUrl, UnixSockets) {
  std::string err;
  auto a = parse_redis_url("unix:///run/redis/redis.sock?db=2", err);
  ASSERT_TRUE(a) << err;
  EXPECT_EQ(a->unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(a->db, 2);
  EXPECT_FALSE(parse_redis_url("unix://relative.sock", err));
}

TEST(RedisUrl, RefusesNonsense) {
  std::string err;
  EXPECT_FALSE(parse_redis_url("http://localhost", err));
  EXPECT_NE(err.find("redis://"), std::string::npos);
  EXPECT_FALSE(parse_redis_url("redis://host:notaport/0", err));
  EXPECT_FALSE(parse_redis_url("redis://host:70000/0", err));
  EXPECT_FALSE(parse_redis_url("redis://host:6379/x", err));
  EXPECT_FALSE(parse_redis_url("redis://:6379/0", err));
}
