// Redis Cluster routing: the hash slot (of 16384) a key lives in, the map of which master
// serves each slot as CLUSTER SLOTS reports it, and the redirections (-MOVED, -ASK) a node
// answers with when a slot is served elsewhere or is being migrated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis_connection.hpp"

namespace crosscut::redis {

inline constexpr int kClusterSlotCount = 16384;

// CRC16/XMODEM (polynomial 0x1021, initial value 0), the checksum Redis Cluster hashes with.
std::uint16_t crc16(std::string_view data);

// The slot of `key`: CRC16 of its hash tag (what lies between the first '{' and the first '}'
// after it, when that is not empty), or else of the whole key, modulo 16384. Every key of one
// breaker shares the tag {<resource>}, so one script can use them all.
int key_slot(std::string_view key);

struct ClusterNode {
  std::string host;
  int port = 0;

  bool operator==(const ClusterNode&) const = default;
  std::string describe() const { return host + ":" + std::to_string(port); }
};

// A node's answer that the key's slot is served elsewhere: MOVED (for good: the map is stale)
// or ASK (for this command only, during a migration: send ASKING, then the command, there).
struct ClusterRedirect {
  enum class Kind : std::uint8_t { moved, ask };
  Kind kind = Kind::moved;
  int slot = 0;
  ClusterNode node;  // host empty when the node did not know its own address
};

// Parses an error reply ("MOVED 3999 127.0.0.1:7002"); nullopt for any other error.
std::optional<ClusterRedirect> parse_redirect(std::string_view error);

// Which master serves each slot. A plain value: not synchronised (its user guards it).
class ClusterSlotMap {
 public:
  // From a CLUSTER SLOTS reply asked of a node at `asked_host`, which stands in for masters
  // listed without an address. nullopt, with `error` set to a one-line reason, when the reply
  // is not a slot map.
  static std::optional<ClusterSlotMap> from_reply(const Reply& reply, std::string_view asked_host,
                                                  std::string& error);

  // The master serving `slot`, or nullptr when none does (a cluster being set up or failing).
  const ClusterNode* master_of(int slot) const;
  // Every master known, each once, in the order first seen.
  const std::vector<ClusterNode>& masters() const { return masters_; }
  // Slots that have a master: 16384 in a healthy cluster.
  int covered() const;
  // A MOVED redirection: `slot` is now served by `node` (added as a master if new).
  void move(int slot, const ClusterNode& node);

 private:
  std::size_t index_of(const ClusterNode& node);

  std::vector<ClusterNode> masters_;
  std::vector<std::int32_t> slot_master_ = std::vector<std::int32_t>(kClusterSlotCount, -1);
};

}  // namespace crosscut::redis
