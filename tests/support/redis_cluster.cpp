#include "support/redis_cluster.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

namespace crosscut::testing {

RedisCluster::RedisCluster(int masters) {
  RedisServer::Options options;
  options.cluster_dir = dir_.path().string();
  for (int i = 0; i < masters; ++i) nodes_.push_back(std::make_unique<RedisServer>(options));
  std::vector<std::string> create{"/usr/bin/redis-cli", "--cluster", "create"};
  for (const auto& a : addresses()) create.push_back(a);
  for (const char* a : {"--cluster-replicas", "0", "--cluster-yes"}) create.emplace_back(a);
  auto made = run_process(create);
  if (made.exit_code != 0)
    throw std::runtime_error("redis-cli --cluster create failed: " + made.out + made.err);
  if (!wait_ok()) throw std::runtime_error("the test cluster did not become ok within 30 s");
}

std::vector<std::string> RedisCluster::addresses() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_) out.push_back("127.0.0.1:" + std::to_string(n->port()));
  return out;
}

bool RedisCluster::wait_ok() const {
  // Polling, bounded: the nodes gossip their way to a shared view and give no other signal.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    bool ok = true;
    for (const auto& n : nodes_) {
      try {
        ok = ok && n->command({"CLUSTER", "INFO"}).find("cluster_state:ok") != std::string::npos;
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string RedisCluster::id(int i) const {
  return nodes_.at(static_cast<std::size_t>(i))->command({"CLUSTER", "MYID"});
}

}  // namespace crosscut::testing
