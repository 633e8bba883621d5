// RedisBreakerBackend: breaker state shared by every process through Redis. Each operation is
// one EVALSHA of the breaker script, so concurrent instances never race. When Redis cannot be
// reached the configured policy answers instead (degraded results), with one log line and one
// `redis_connection` error per outage, and calls never wait longer than command_timeout.
// With cluster: true each breaker goes to the master serving its keys' slot: the slot map
// comes from CLUSTER SLOTS, MOVED updates it, ASK sends one call to a migration's target, and
// each node is one outage of its own.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "breaker_view.hpp"
#include "breaker_view_subscription.hpp"
#include "cluster_slots.hpp"
#include "crosscut/sdk/breaker_state_machine.hpp"
#include "crosscut/sdk/sdk.hpp"
#include "redis_breaker_options.hpp"
#include "redis_connection.hpp"

namespace crosscut::redis {

class RedisBreakerBackend final : public sdk::BreakerBackend {
 public:
  static const sdk::OptionTable<RedisBreakerOptions>& options_table() {
    return redis_breaker_options_table();
  }

  // Throws std::invalid_argument for options checked_address() refuses.
  RedisBreakerBackend(const RedisBreakerOptions& options, sdk::HostContext& host);
  // The same checks, reported as a ConfigError at the option (the plugin's factory).
  static void check_options(const RedisBreakerOptions& options, const sdk::ConfigView& view,
                            sdk::HostContext& host);
  // Connects once and sends PING (`crosscut validate --check-connections`).
  static std::vector<sdk::ServerCheck> probe_servers(const RedisBreakerOptions& options,
                                                     const sdk::ConfigView& view,
                                                     sdk::HostContext& host,
                                                     std::chrono::milliseconds timeout);
  ~RedisBreakerBackend() override;

  std::vector<std::string> keys() override;

  // The keys a resource's state lives under (hash, failures).
  std::pair<std::string, std::string> redis_keys(std::string_view resource) const;
  // The key of a resource's quorum instances (written only with quorum.min_instances > 1).
  std::string quorum_key(std::string_view resource) const;
  // The key of a resource's rate-mode buckets (written only with mode: rate).
  std::string bucket_key(std::string_view resource) const;
  // True while an outage is in progress (the last attempt to reach Redis, or with a cluster
  // one of its masters, failed).
  bool unavailable() const { return nodes_in_outage_.load() > 0; }
  // The channel the script publishes every change on.
  const std::string& channel() const { return channel_; }
  // The local view's subscription (nullptr with local_view: false).
  BreakerViewSubscription* view_subscription() const { return subscription_.get(); }
  // Operations answered from the local view, and those sent to Redis.
  std::uint64_t local_answers() const { return local_answers_.load(); }
  std::uint64_t round_trips() const { return round_trips_.load(); }
  // Script calls that shared a pipelined write with others (callers that found the connection
  // busy).
  std::uint64_t pipelined_calls() const { return pipelined_.load(); }

 protected:
  sdk::BreakerResult apply_op(std::string_view key, sdk::BreakerOp op,
                              const sdk::BreakerPolicy& policy, std::optional<std::int64_t> now_ms,
                              const sdk::BreakerOpArgs& args) override;

 private:
  RedisBreakerBackend(const RedisBreakerOptions& options, RedisAddress address,
                      sdk::HostContext& host);

  // One script call waiting for its connection, and what it got.
  struct PendingScript {
    const std::vector<std::string>* args = nullptr;
    Reply reply;
    std::string failure;
    bool ok = false;
    bool asking = false;    // an ASK redirection: ASKING goes first, on the same connection
    bool finished = false;  // answered: the caller may return
    bool lead = false;      // handed the connection: the caller sends what is waiting
  };

  // One pooled connection. Callers that find it busy queue their script calls; the thread
  // holding it sends every queued call in one pipelined write when its own round trip ends,
  // then hands the connection to the first caller still waiting. Under concurrency many calls
  // share a round trip; a lone caller pays nothing for it.
  struct Slot {
    std::mutex mu;  // guards `waiting` and `busy`
    std::condition_variable changed;
    std::vector<PendingScript*> waiting;
    bool busy = false;          // a thread holds the connection (and so the fields below)
    int exclusive_waiting = 0;  // keys() callers waiting: the connection goes back, not on
    std::unique_ptr<RedisConnection> conn;
    std::string sha;  // of the breaker script, from SCRIPT LOAD on this connection
    std::chrono::steady_clock::time_point next_attempt{};
    std::chrono::milliseconds backoff{0};
  };

  // The connections to one Redis node (the only one, or a cluster master), and whether it is
  // in an outage.
  struct NodePool {
    RedisAddress address;
    std::vector<std::unique_ptr<Slot>> slots;
    std::atomic<bool> outage{false};
    std::atomic<std::int64_t> outage_began_us{0};
    std::mutex reader_mu;                     // the view's re-reads (cluster)
    std::unique_ptr<RedisConnection> reader;  // made on first use
  };

  // Runs the script on one of `pool`'s connections; false when the node could not be reached.
  bool run_script(NodePool& pool, const std::vector<std::string>& args, bool asking, Reply& reply,
                  std::string& failure);
  // Runs the script where the key's slot is served, following MOVED and ASK redirections and
  // waiting out TRYAGAIN; `pool` is where the last call went. False when it could not.
  bool route_script(std::string_view hash_key, const std::vector<std::string>& args, Reply& reply,
                    std::string& failure, NodePool*& pool);
  // Cluster: the pool of the master serving `slot` (the map read first when unknown or
  // stale); nullptr with `failure` set when no master is known for it, `no_map` telling
  // whether no map at all is. The pool of `node` (under cluster_mu_).
  NodePool* pool_for_slot(int slot, std::string& failure, bool& no_map);
  NodePool& pool_of(const ClusterNode& node);
  // Reads CLUSTER SLOTS from a known master or a configured node, with `lock` (on
  // cluster_mu_) released while it waits; one caller at a time (others keep the map there is).
  bool refresh_map(std::unique_lock<std::mutex>& lock, std::string& failure);
  std::vector<RedisAddress> map_candidates();
  std::optional<ClusterSlotMap> read_map(const std::vector<RedisAddress>& candidates,
                                         std::string& failure) const;
  // The view's re-read of `resources` (cluster): each on the master serving it.
  bool reread(const std::vector<std::string>& resources, std::vector<Reply>& replies,
              std::string& failure);
  // Lists the breaker keys one node holds (SCAN), on a connection of `pool` held exclusively.
  bool scan_keys(NodePool& pool, std::vector<std::string>& out);
  // Sends every call of `batch` on the slot's connection, which this thread holds.
  void eval_batch(Slot& slot, const std::vector<PendingScript*>& batch);
  // Gives the connection up: to the first caller waiting, or back to the slot. Under slot.mu.
  static void release(Slot& slot);
  bool connect(Slot& slot, std::string& failure);
  bool eval(Slot& slot, const std::vector<std::string>& args, bool asking, Reply& reply,
            std::string& failure);
  sdk::BreakerResult fallback(std::string_view key, sdk::BreakerOp op,
                              const sdk::BreakerPolicy& policy, std::optional<std::int64_t> now_ms,
                              const sdk::BreakerOpArgs& args);
  void outage_started(NodePool& pool, const std::string& why);
  // A call sent at `sent_us` (steady_us()) was answered: ends the node's outage, unless the
  // call was sent before it began (a reply in flight when Redis went away proves nothing).
  void outage_ended(NodePool& pool, std::int64_t sent_us);
  static Slot& slot_for_this_thread(NodePool& pool);
  std::int64_t host_now_ms() const;
  static std::int64_t steady_us();
  // Learns Redis' clock from one reply's time and the round trip around it (steady_us()).
  void observe_server_time(std::int64_t server_ms, std::int64_t sent_us, std::int64_t received_us);

  const RedisBreakerOptions options_;
  const RedisAddress address_;
  sdk::HostContext& host_;
  sdk::Logger& log_;
  std::unique_ptr<NodePool> pool_;  // the one node (cluster: false)
  std::mutex outage_mu_;  // an outage's flag and nodes_in_outage_ change together under it
  std::atomic<int> nodes_in_outage_{0};
  const std::string channel_;

  // Cluster: the slot map and a pool per master, made as they are first needed and kept (a
  // pool outlives every call that uses it).
  std::mutex cluster_mu_;
  ClusterSlotMap map_;                                      // guarded by cluster_mu_
  bool map_stale_ = true;                                   // guarded by cluster_mu_
  std::chrono::steady_clock::time_point next_refresh_{};    // guarded by cluster_mu_
  bool refreshing_ = false;                                 // guarded by cluster_mu_
  std::map<std::string, std::unique_ptr<NodePool>> pools_;  // by host:port; guarded
  const std::vector<RedisAddress> seeds_;

  // The local view (local_view: true). The subscription is declared after the view so that it
  // stops first.
  std::unique_ptr<BreakerView> view_;
  std::unique_ptr<BreakerViewSubscription> subscription_;
  std::atomic<std::uint64_t> local_answers_{0};
  std::atomic<std::uint64_t> round_trips_{0};
  std::atomic<std::uint64_t> pipelined_{0};
  // Redis' clock minus our steady clock in ms, shifted left by 16, or'ed with how far off that
  // may be (ms: half the round trip it came from, rounded up; the margin a local answer keeps
  // from an OPEN breaker's timeout): one word, so a reader never pairs one estimate's offset
  // with another's error. -1: not measured yet. The tightest estimate of the last minute is kept.
  std::atomic<std::int64_t> server_clock_{-1};
  std::atomic<std::int64_t> server_clock_measured_us_{0};

  std::mutex local_mu_;  // process-local breakers used while Redis is unreachable
  std::map<std::string, sdk::BreakerData, std::less<>> local_;
};

}  // namespace crosscut::redis
