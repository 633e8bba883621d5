// A real Redis Cluster of masters on loopback (redis-server --cluster-enabled yes, joined by
// redis-cli --cluster create), started for one test and killed after it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/redis_server.hpp"

namespace crosscut::testing {

class RedisCluster {
 public:
  // Starts `masters` nodes, assigns the 16384 slots among them and waits until every node
  // reports the cluster ok. Throws when it cannot.
  explicit RedisCluster(int masters = 3);
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  int size() const { return static_cast<int>(nodes_.size()); }
  RedisServer& node(int i) { return *nodes_.at(static_cast<std::size_t>(i)); }
  // "127.0.0.1:<port>" of each node, in start order.
  std::vector<std::string> addresses() const;
  // redis://127.0.0.1:<port>/0 of the first node.
  std::string url() const { return nodes_.front()->url(); }
  // Waits (bounded) until every running node reports cluster_state:ok; false on timeout.
  bool wait_ok() const;
  // The node id of node i (CLUSTER MYID).
  std::string id(int i) const;

 private:
  TempDir dir_;  // the nodes' nodes.conf files: kept until the servers are gone
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

}  // namespace crosscut::testing
