// Redis Cluster routing against real cluster nodes: our key slots are the ones Redis computes
// (CLUSTER KEYSLOT), the slot map read from CLUSTER SLOTS of a 3-master cluster sends every
// key to the master that accepts it, and the MOVED and ASK errors those masters answer are
// parsed to the node that serves the slot.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "redis_breaker/cluster_slots.hpp"
#include "redis_breaker/redis_connection.hpp"
#include "redis_breaker/redis_url.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"

namespace {

using crosscut::redis::ClusterNode;
using crosscut::redis::ClusterRedirect;
using crosscut::redis::ClusterSlotMap;
using crosscut::redis::key_slot;
using crosscut::redis::parse_redirect;

crosscut::redis::Reply ask(int port, const std::vector<std::string_view>& args) {
  crosscut::redis::RedisAddress address;
  address.host = "127.0.0.1";
  address.port = port;
  crosscut::redis::RedisConnection conn(address, std::chrono::seconds(5));
  crosscut::redis::Reply reply;
  crosscut::redis::ConnectionFailure failure;
  if (!conn.ensure_connected(failure) || !conn.command(args, reply, failure))
    throw std::runtime_error(failure.message);
  return reply;
}

// Keys as the breaker writes them, and some that exercise the hash-tag rules.
std::vector<std::string> sample_keys() {
  std::vector<std::string> keys{"",        "{",     "}",           "{}",     "{}x",
                                "x{}y{z}", "a{b}c", "a{{b}}",      "{a}{b}", "upbit/korea/ticker",
                                "x{y",     "}{y}",  "héllo{wörld}"};
  for (int i = 0; i < 500; ++i) {
    keys.push_back("crosscut:cb:{exchange" + std::to_string(i) + "/korea/ticker}:s");
    keys.push_back("key:" + std::to_string(i * 7919));
  }
  return keys;
}

TEST(ClusterSlots, Crc16IsTheXmodemChecksum) {
  // The check value of CRC-16/XMODEM, and the slot Redis documents for "foo".
  EXPECT_EQ(crosscut::redis::crc16("123456789"), 0x31C3);
  EXPECT_EQ(key_slot("foo"), 12182);
}

TEST(ClusterSlots, HashTagsFollowTheRedisRules) {
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  EXPECT_EQ(key_slot("foo{}{bar}"), crosscut::redis::crc16("foo{}{bar}") % 16384)
      << "an empty tag hashes the whole key";
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar")) << "the tag ends at the first '}'";
  EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar")) << "only the first tag counts";
  EXPECT_EQ(key_slot("crosscut:cb:{upbit/korea/ticker}:s"),
            key_slot("crosscut:cb:{upbit/korea/ticker}:b"));
}

TEST(ClusterSlots, EveryKeySlotIsTheOneAClusterNodeComputes) {
  crosscut::testing::TempDir dir;
  crosscut::testing::RedisServer::Options options;
  options.cluster_dir = dir.path().string();
  crosscut::testing::RedisServer node(options);
  for (const auto& key : sample_keys()) {
    auto reply = ask(node.port(), {"CLUSTER", "KEYSLOT", key});
    ASSERT_EQ(reply.type, crosscut::redis::Reply::Type::integer) << reply.str;
    EXPECT_EQ(key_slot(key), reply.integer) << key;
  }
}

TEST(ClusterSlots, RedirectionsAreParsedAndOthersRefused) {
  auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, ClusterRedirect::Kind::moved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->node, (ClusterNode{"127.0.0.1", 6381}));
  auto ask6 = parse_redirect("ASK 0 ::1:7000");
  ASSERT_TRUE(ask6);
  EXPECT_EQ(ask6->kind, ClusterRedirect::Kind::ask);
  EXPECT_EQ(ask6->node, (ClusterNode{"::1", 7000}));
  auto unnamed = parse_redirect("MOVED 16383 :7001");
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(unnamed->node.host, "");
  for (const char* other :
       {"ERR unknown command", "MOVED", "MOVED x 1.2.3.4:5", "MOVED 16384 a:1", "ASK 1 host",
        "ASK 1 host:0", "ASK 1 host:70000", "MOVED -1 a:1", "NOSCRIPT No matching script"})
    EXPECT_FALSE(parse_redirect(other)) << other;
}

TEST(ClusterSlots, TheMapOfARealClusterSendsEachKeyToTheMasterThatServesIt) {
  crosscut::testing::RedisCluster cluster(3);
  auto reply = ask(cluster.node(0).port(), {"CLUSTER", "SLOTS"});
  std::string error;
  auto map = ClusterSlotMap::from_reply(reply, "127.0.0.1", error);
  ASSERT_TRUE(map) << error;
  EXPECT_EQ(map->covered(), 16384);
  ASSERT_EQ(map->masters().size(), 3u);
  std::set<int> ports;
  for (const auto& m : map->masters()) ports.insert(m.port);
  EXPECT_EQ(ports.size(), 3u);
  std::set<int> used;
  for (const auto& key : sample_keys()) {
    const ClusterNode* owner = map->master_of(key_slot(key));
    ASSERT_NE(owner, nullptr) << key;
    used.insert(owner->port);
    EXPECT_EQ(ask(owner->port, {"SET", key, "1"}).str, "OK") << key;
    for (int i = 0; i < cluster.size(); ++i) {
      if (cluster.node(i).port() == owner->port) continue;
      auto refused = ask(cluster.node(i).port(), {"GET", key});
      ASSERT_TRUE(refused.is_error()) << key;
      auto r = parse_redirect(refused.str);
      ASSERT_TRUE(r) << refused.str;
      EXPECT_EQ(r->kind, ClusterRedirect::Kind::moved);
      EXPECT_EQ(r->slot, key_slot(key));
      EXPECT_EQ(r->node.port, owner->port);
    }
  }
  EXPECT_EQ(used.size(), 3u) << "the sample keys reach every master";
}

TEST(ClusterSlots, AMigratingSlotAnswersAskForAKeyThatMovedAndTheMapTakesAMove) {
  crosscut::testing::RedisCluster cluster(3);
  std::string error;
  auto map = ClusterSlotMap::from_reply(ask(cluster.node(0).port(), {"CLUSTER", "SLOTS"}),
                                        "127.0.0.1", error);
  ASSERT_TRUE(map) << error;
  const std::string key = "crosscut:cb:{binance/global/depth}:s";
  const int slot = key_slot(key);
  const ClusterNode source = *map->master_of(slot);
  int source_i = 0;
  while (cluster.node(source_i).port() != source.port) ++source_i;
  const int target_i = (source_i + 1) % cluster.size();
  const int target_port = cluster.node(target_i).port();
  const std::string s = std::to_string(slot);
  ASSERT_EQ(ask(target_port, {"CLUSTER", "SETSLOT", s, "IMPORTING", cluster.id(source_i)}).str,
            "OK");
  ASSERT_EQ(ask(source.port, {"CLUSTER", "SETSLOT", s, "MIGRATING", cluster.id(target_i)}).str,
            "OK");
  // The key is not (or no longer) on the source: the source sends the client to the target.
  auto asked = ask(source.port, {"GET", key});
  ASSERT_TRUE(asked.is_error());
  auto r = parse_redirect(asked.str);
  ASSERT_TRUE(r) << asked.str;
  EXPECT_EQ(r->kind, ClusterRedirect::Kind::ask);
  EXPECT_EQ(r->slot, slot);
  EXPECT_EQ(r->node.port, target_port);
  map->move(slot, r->node);
  EXPECT_EQ(map->master_of(slot)->port, target_port);
  EXPECT_EQ(map->covered(), 16384);
}

}  // namespace
