#include "redis_breaker_backend.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <thread>

#include "breaker_script.hpp"

namespace crosscut::redis {
namespace {

using sdk::BreakerOp;
using sdk::BreakerState;

// What a call on a connection that waits to reconnect fails with (it reached no server).
constexpr const char* kBackingOff = "reconnecting (backing off)";

// How many of the breaker script's arguments are keys: s, f, q and b (breaker_script.hpp).
constexpr const char* kScriptKeys = "4";

std::optional<sdk::TransitionReason> reason_from(std::string_view s) {
  using R = sdk::TransitionReason;
  for (R r : {R::failure_threshold, R::timeout_elapsed, R::success_threshold, R::half_open_failure,
              R::half_open_expired, R::reset, R::forced_open, R::opened_until, R::failure_rate,
              R::slow_call_rate})
    if (sdk::reason_name(r) == s) return r;
  return std::nullopt;
}

BreakerState state_from(long long v) {
  return v == 1 ? BreakerState::open : v == 2 ? BreakerState::half_open : BreakerState::closed;
}

}  // namespace

RedisBreakerBackend::RedisBreakerBackend(const RedisBreakerOptions& options, sdk::HostContext& host)
    : RedisBreakerBackend(
          options,
          checked_address(options,
                          [](std::string_view key, const std::string& problem) {
                            throw std::invalid_argument(std::string(key) + ": " + problem);
                          }),
          host) {}

void RedisBreakerBackend::check_options(const RedisBreakerOptions& options,
                                        const sdk::ConfigView& view, sdk::HostContext&) {
  checked_address(options, [&view](std::string_view key, const std::string& problem) {
    view.fail(key, problem);
  });
}

std::vector<sdk::ServerCheck> RedisBreakerBackend::probe_servers(
    const RedisBreakerOptions& options, const sdk::ConfigView&, sdk::HostContext&,
    std::chrono::milliseconds timeout) {
  const RedisAddress address =
      checked_address(options, [](std::string_view key, const std::string& problem) {
        throw std::invalid_argument(std::string(key) + ": " + problem);
      });
  sdk::ServerCheck check{.server = address.describe(), .reachable = false, .detail = {}};
  const auto started = std::chrono::steady_clock::now();
  RedisConnection conn(address, timeout);
  ConnectionFailure failure;
  Reply reply;
  if (!conn.ensure_connected(failure) || !conn.command({"PING"}, reply, failure)) {
    check.detail = failure.message;
  } else if (reply.is_error()) {
    check.detail = "PING refused: " + reply.str;
  } else {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    check.reachable = true;
    check.detail = "PING answered in " + std::to_string(ms.count()) + " ms";
  }
  return {check};
}

RedisBreakerBackend::RedisBreakerBackend(const RedisBreakerOptions& options, RedisAddress address,
                                         sdk::HostContext& host)
    : options_(options),
      address_(std::move(address)),
      host_(host),
      log_(host.logger("redis_breaker", "app")),
      channel_(options_.key_prefix + ":changes@" + std::to_string(address_.db)),
      seeds_(options_.cluster ? seed_addresses(options_, address_) : std::vector<RedisAddress>{}) {
  // With a cluster, this pool holds no connections: its outage is "no slot map".
  pool_ = std::make_unique<NodePool>();
  pool_->address = address_;
  std::string failure;
  if (options_.cluster) {
    std::unique_lock lock(cluster_mu_);
    if (refresh_map(lock, failure)) {
      log_.info("redis breaker backend connected to a cluster",
                {{"redis", address_.describe()}, {"masters", map_.masters().size()}});
    } else {
      outage_started(*pool_, failure);
    }
  } else {
    for (std::size_t i = 0; i < options_.connections; ++i) {
      auto slot = std::make_unique<Slot>();
      slot->conn = std::make_unique<RedisConnection>(address_, options_.command_timeout);
      pool_->slots.push_back(std::move(slot));
    }
    // Say at startup whether Redis answers; the policy covers the time until it does.
    Slot& first = *pool_->slots.front();
    std::lock_guard lock(first.mu);
    if (connect(first, failure))
      log_.info("redis breaker backend connected", {{"redis", address_.describe()}});
    else
      outage_started(*pool_, failure);
  }
  if (options_.local_view) {
    view_ = std::make_unique<BreakerView>();
    BreakerViewSubscription::Reread reread;
    if (options_.cluster)
      reread = [this](const std::vector<std::string>& resources, std::vector<Reply>& replies,
                      std::string& why) { return this->reread(resources, replies, why); };
    subscription_ = std::make_unique<BreakerViewSubscription>(
        options_, address_, channel_, *view_, log_,
        [this](std::string_view resource) { return redis_keys(resource); }, std::move(reread));
  }
}

RedisBreakerBackend::~RedisBreakerBackend() {
  // The subscription's thread calls into the backend (re-reads): stop it before any member goes.
  subscription_.reset();
}

std::int64_t RedisBreakerBackend::host_now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             host_.clock().now().time_since_epoch())
      .count();
}

std::int64_t RedisBreakerBackend::steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void RedisBreakerBackend::observe_server_time(std::int64_t server_ms, std::int64_t sent_us,
                                              std::int64_t received_us) {
  const std::int64_t error_ms =
      std::min<std::int64_t>((received_us - sent_us + 1999) / 2000, 0xFFFF);
  const std::int64_t known = server_clock_.load(std::memory_order_relaxed);
  const bool recent =
      received_us - server_clock_measured_us_.load(std::memory_order_relaxed) < 60'000'000;
  if (known >= 0 && error_ms > (known & 0xFFFF) && recent) return;
  // The reply's time lies somewhere in the round trip; the middle is off by at most half.
  const std::int64_t offset_ms = server_ms - (sent_us + received_us) / 2000;
  server_clock_.store((offset_ms << 16) | error_ms, std::memory_order_relaxed);
  server_clock_measured_us_.store(received_us, std::memory_order_relaxed);
}

std::pair<std::string, std::string> RedisBreakerBackend::redis_keys(
    std::string_view resource) const {
  std::string base = options_.key_prefix + ":{" + std::string(resource) + "}:";
  return {base + "s", base + "f"};
}

std::string RedisBreakerBackend::quorum_key(std::string_view resource) const {
  return options_.key_prefix + ":{" + std::string(resource) + "}:q";
}

std::string RedisBreakerBackend::bucket_key(std::string_view resource) const {
  return options_.key_prefix + ":{" + std::string(resource) + "}:b";
}

RedisBreakerBackend::Slot& RedisBreakerBackend::slot_for_this_thread(NodePool& pool) {
  std::size_t h = std::hash<std::thread::id>{}(std::this_thread::get_id());
  return *pool.slots[h % pool.slots.size()];
}

RedisBreakerBackend::NodePool& RedisBreakerBackend::pool_of(const ClusterNode& node) {
  const std::string name = node.describe();
  auto it = pools_.find(name);
  if (it != pools_.end()) return *it->second;
  auto pool = std::make_unique<NodePool>();
  pool->address = address_;  // the credentials every node shares
  pool->address.host = node.host;
  pool->address.port = node.port;
  for (std::size_t i = 0; i < options_.connections; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->conn = std::make_unique<RedisConnection>(pool->address, options_.command_timeout);
    pool->slots.push_back(std::move(slot));
  }
  return *pools_.emplace(name, std::move(pool)).first->second;
}

std::vector<RedisAddress> RedisBreakerBackend::map_candidates() {
  // Masters that answer first, then the configured nodes, then masters in an outage.
  std::vector<RedisAddress> up;
  std::vector<RedisAddress> down;
  for (const auto& m : map_.masters()) {
    NodePool& pool = pool_of(m);
    (pool.outage.load() ? down : up).push_back(pool.address);
  }
  up.insert(up.end(), seeds_.begin(), seeds_.end());
  up.insert(up.end(), down.begin(), down.end());
  return up;
}

std::optional<ClusterSlotMap> RedisBreakerBackend::read_map(
    const std::vector<RedisAddress>& candidates, std::string& failure) const {
  for (const auto& address : candidates) {
    RedisConnection conn(address, options_.command_timeout);
    ConnectionFailure cf;
    Reply reply;
    if (!conn.ensure_connected(cf) || !conn.command({"CLUSTER", "SLOTS"}, reply, cf)) {
      failure = cf.message;
      continue;
    }
    std::string error;
    auto map = ClusterSlotMap::from_reply(reply, address.host, error);
    if (!map || map->covered() == 0) {
      failure = map ? "CLUSTER SLOTS at " + address.describe() + ": no slot is served" : error;
      continue;
    }
    return map;
  }
  return std::nullopt;
}

bool RedisBreakerBackend::refresh_map(std::unique_lock<std::mutex>& lock, std::string& failure) {
  if (refreshing_) return false;  // another caller is at it: use the map there is
  refreshing_ = true;
  const std::vector<RedisAddress> candidates = map_candidates();
  const std::int64_t sent_us = steady_us();
  // The network waits happen unlocked: calls to masters already known carry on.
  lock.unlock();
  auto map = read_map(candidates, failure);
  lock.lock();
  refreshing_ = false;
  if (!map) return false;
  map_ = std::move(*map);
  map_stale_ = false;
  // Reading a map ends the outage of the map itself, and of nodes that are no longer masters
  // (a failover, a reshard away from them): nothing will be sent there to end it.
  outage_ended(*pool_, sent_us);
  for (auto& entry : pools_) {
    const std::string& name = entry.first;  // not a structured binding: lambdas capture it
    const bool master = std::any_of(map_.masters().begin(), map_.masters().end(),
                                    [&](const ClusterNode& m) { return m.describe() == name; });
    if (!master) outage_ended(*entry.second, sent_us);
  }
  return true;
}

RedisBreakerBackend::NodePool* RedisBreakerBackend::pool_for_slot(int slot, std::string& failure,
                                                                  bool& no_map) {
  std::unique_lock lock(cluster_mu_);
  const auto now = std::chrono::steady_clock::now();
  if ((map_stale_ || map_.master_of(slot) == nullptr) && now >= next_refresh_) {
    // At most one read of the map per 100ms: a slot no master serves must not cost every call
    // a CLUSTER SLOTS.
    next_refresh_ = now + std::chrono::milliseconds(100);
    refresh_map(lock, failure);
  }
  no_map = map_.covered() == 0;
  const ClusterNode* node = map_.master_of(slot);
  if (node == nullptr) {
    if (failure.empty()) failure = "no master of the cluster serves slot " + std::to_string(slot);
    return nullptr;
  }
  return &pool_of(*node);
}

bool RedisBreakerBackend::route_script(std::string_view hash_key,
                                       const std::vector<std::string>& args, Reply& reply,
                                       std::string& failure, NodePool*& pool) {
  if (!options_.cluster) {
    pool = pool_.get();
    return run_script(*pool, args, false, reply, failure);
  }
  const int slot = key_slot(hash_key);
  // A slot in migration answers ASK and TRYAGAIN (a breaker's keys split between the nodes, or
  // some of them not created yet) until the slot has moved: retried for up to four
  // command_timeouts (at least 200ms).
  const auto retry_until = std::chrono::steady_clock::now() +
                           std::max(options_.command_timeout * 4, std::chrono::milliseconds(200));
  bool asking = false;
  int moved = 0;
  int waits = 0;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    if (!asking) {
      bool no_map = false;
      pool = pool_for_slot(slot, failure, no_map);
      if (pool == nullptr) {
        // An unknown map is an outage of the url node; a slot no master serves fails only
        // the calls on it (answered by on_unavailable).
        pool = no_map ? pool_.get() : nullptr;
        return false;
      }
    }
    if (!run_script(*pool, args, asking, reply, failure)) {
      if (failure != kBackingOff) {
        std::lock_guard lock(cluster_mu_);
        map_stale_ = true;  // a failover may have given its slots to another node
      }
      return false;
    }
    asking = false;
    if (!reply.is_error()) return true;
    auto r = parse_redirect(reply.str);
    const bool migrating =
        (r && r->kind == ClusterRedirect::Kind::ask) || reply.str.starts_with("TRYAGAIN");
    if (r && r->kind == ClusterRedirect::Kind::moved && moved < 5) {
      ++moved;
      if (r->node.host.empty()) r->node.host = pool->address.host;
      std::lock_guard lock(cluster_mu_);
      // The slot at once; the whole map at the next lookup (a reshard moves many).
      map_.move(r->slot, r->node);
      map_stale_ = true;
      continue;
    }
    if (migrating && std::chrono::steady_clock::now() < retry_until) {
      if (r) {
        if (r->node.host.empty()) r->node.host = pool->address.host;
        std::lock_guard lock(cluster_mu_);
        pool = &pool_of(r->node);
        asking = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(1 << std::min(waits++, 4)));
      }
      continue;
    }
    if (migrating || reply.str.starts_with("CLUSTERDOWN")) {
      // A migration that outlasted the wait, or a node that cannot serve the slot: this call
      // is answered by on_unavailable; the node is no less reachable for it.
      failure = reply.str;
      pool = nullptr;
      return false;
    }
    return true;  // another error: the caller reports it
  }
  failure = "the cluster kept redirecting the call";
  pool = nullptr;
  return false;
}

void RedisBreakerBackend::outage_started(NodePool& pool, const std::string& why) {
  if (pool.outage.load()) return;
  {
    // The flag and the count change together: an outage ending elsewhere must never see
    // "every node back" while this one begins.
    std::lock_guard lock(outage_mu_);
    if (pool.outage.load()) return;           // one report per outage
    pool.outage_began_us.store(steady_us());  // before the flag: a success must see the time
    pool.outage.store(true);
    nodes_in_outage_.fetch_add(1);
  }
  const std::string_view policy = unavailable_policy_name(options_.on_unavailable);
  const std::string where = pool.address.describe();
  log_.error("redis unreachable: breakers follow the on_unavailable policy until it answers",
             {{"redis", where}, {"reason", why}, {"on_unavailable", policy}});
  sdk::ErrorEvent e;
  e.kind = "redis_connection";
  e.info.type = "RedisUnavailable";
  e.info.message = why;
  e.target = {"redis", "", "breaker"};
  e.context = sdk::Value::object({{"redis", where}, {"on_unavailable", policy}});
  e.timestamp = host_.clock().now();
  host_.report_error(std::move(e));
}

void RedisBreakerBackend::outage_ended(NodePool& pool, std::int64_t sent_us) {
  if (!pool.outage.load() || sent_us < pool.outage_began_us.load()) return;
  bool all_back = false;
  {
    std::lock_guard lock(outage_mu_);
    if (!pool.outage.load() || sent_us < pool.outage_began_us.load()) return;
    pool.outage.store(false);
    all_back = nodes_in_outage_.fetch_sub(1) == 1;
  }
  log_.info("redis reachable again: breakers use the shared state",
            {{"redis", pool.address.describe()}});
  if (!all_back) return;
  std::lock_guard lock(local_mu_);
  local_.clear();  // the shared state is authoritative again
}

bool RedisBreakerBackend::connect(Slot& slot, std::string& failure) {
  if (slot.conn->connected() && !slot.sha.empty()) return true;
  // Back off between attempts, so calls during an outage answer at once.
  if (std::chrono::steady_clock::now() < slot.next_attempt) {
    failure = kBackingOff;
    return false;
  }
  ConnectionFailure cf;
  Reply loaded;
  if (slot.conn->ensure_connected(cf) &&
      slot.conn->command({"SCRIPT", "LOAD", kBreakerScript}, loaded, cf) &&
      loaded.type == Reply::Type::string) {
    slot.sha = loaded.str;
    slot.backoff = std::chrono::milliseconds(0);
    return true;
  }
  failure = loaded.is_error() ? "SCRIPT LOAD refused: " + loaded.str : cf.message;
  slot.conn->close();
  slot.backoff = std::min(options_.reconnect_backoff_max,
                          std::max(std::chrono::milliseconds(100), slot.backoff * 2));
  slot.next_attempt = std::chrono::steady_clock::now() + slot.backoff;
  return false;
}

bool RedisBreakerBackend::eval(Slot& slot, const std::vector<std::string>& args, bool asking,
                               Reply& reply, std::string& failure) {
  if (!connect(slot, failure)) return false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    ConnectionFailure cf;
    bool sent = false;
    if (asking) {
      // ASKING lets the next command (only) use a slot the node is importing.
      std::vector<std::string> command{"EVALSHA", slot.sha, kScriptKeys};
      command.insert(command.end(), args.begin(), args.end());
      std::vector<Reply> replies;
      sent = slot.conn->pipeline({{"ASKING"}, std::move(command)}, replies, cf);
      if (sent) reply = std::move(replies.back());
    } else {
      std::vector<std::string_view> argv{"EVALSHA", slot.sha, kScriptKeys};
      for (const auto& a : args) argv.push_back(a);
      sent = slot.conn->command(argv, reply, cf);
    }
    if (!sent) {
      slot.sha.clear();
      slot.backoff = std::chrono::milliseconds(100);
      slot.next_attempt = std::chrono::steady_clock::now() + slot.backoff;
      failure = cf.message;
      return false;
    }
    // After SCRIPT FLUSH or a failover the script is gone: load it again and retry once.
    if (reply.is_error() && reply.str.rfind("NOSCRIPT", 0) == 0 && attempt == 0) {
      Reply loaded;
      if (!slot.conn->command({"SCRIPT", "LOAD", kBreakerScript}, loaded, cf)) {
        slot.sha.clear();
        failure = cf.message;
        return false;
      }
      if (loaded.type != Reply::Type::string) {
        reply = loaded;
        return true;
      }
      slot.sha = loaded.str;
      continue;
    }
    return true;
  }
  return true;
}

void RedisBreakerBackend::eval_batch(Slot& slot, const std::vector<PendingScript*>& batch) {
  // A call redirected by ASK goes alone (with its ASKING); they are rare.
  if (batch.size() == 1 ||
      std::any_of(batch.begin(), batch.end(), [](const PendingScript* p) { return p->asking; })) {
    for (auto* p : batch) p->ok = eval(slot, *p->args, p->asking, p->reply, p->failure);
    return;
  }
  std::string failure;
  if (!connect(slot, failure)) {
    for (auto* p : batch) p->failure = failure;
    return;
  }
  pipelined_.fetch_add(batch.size(), std::memory_order_relaxed);
  std::vector<std::vector<std::string>> commands;
  commands.reserve(batch.size());
  for (const auto* p : batch) {
    std::vector<std::string> command{"EVALSHA", slot.sha, kScriptKeys};
    command.insert(command.end(), p->args->begin(), p->args->end());
    commands.push_back(std::move(command));
  }
  std::vector<Reply> replies;
  ConnectionFailure cf;
  if (!slot.conn->pipeline(commands, replies, cf)) {
    slot.sha.clear();
    slot.backoff = std::chrono::milliseconds(100);
    slot.next_attempt = std::chrono::steady_clock::now() + slot.backoff;
    for (auto* p : batch) p->failure = cf.message;
    return;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    PendingScript& p = *batch[i];
    // The script is gone (SCRIPT FLUSH, a failover): eval() loads it again and retries.
    if (replies[i].is_error() && replies[i].str.rfind("NOSCRIPT", 0) == 0) {
      p.ok = eval(slot, *p.args, false, p.reply, p.failure);
    } else {
      p.reply = std::move(replies[i]);
      p.ok = true;
    }
  }
}

void RedisBreakerBackend::release(Slot& slot) {
  if (slot.waiting.empty() || slot.exclusive_waiting > 0) {
    slot.busy = false;
  } else {
    slot.waiting.front()->lead = true;
  }
  slot.changed.notify_all();
}

bool RedisBreakerBackend::run_script(NodePool& pool, const std::vector<std::string>& args,
                                     bool asking, Reply& reply, std::string& failure) {
  Slot& slot = slot_for_this_thread(pool);
  PendingScript mine;
  mine.args = &args;
  mine.asking = asking;
  std::unique_lock lock(slot.mu);
  slot.waiting.push_back(&mine);
  if (slot.busy)
    slot.changed.wait(lock, [&] { return mine.finished || mine.lead; });
  else
    slot.busy = true;
  if (!mine.finished) {
    // This thread holds the connection: it sends everything waiting, its own call included.
    std::vector<PendingScript*> batch;
    batch.swap(slot.waiting);
    lock.unlock();
    try {
      eval_batch(slot, batch);
    } catch (const std::exception& e) {
      // Out of memory building the batch: every caller gets a failure, none waits forever.
      for (auto* p : batch) {
        p->ok = false;
        p->failure = std::string("the script call failed: ") + e.what();
      }
    }
    lock.lock();
    for (auto* p : batch) p->finished = true;
    release(slot);
  }
  reply = std::move(mine.reply);
  failure = std::move(mine.failure);
  return mine.ok;
}

sdk::BreakerResult RedisBreakerBackend::fallback(std::string_view key, BreakerOp op,
                                                 const sdk::BreakerPolicy& policy,
                                                 std::optional<std::int64_t> now_ms,
                                                 const sdk::BreakerOpArgs& args) {
  const std::int64_t now = now_ms ? *now_ms : host_now_ms();
  sdk::BreakerResult r;
  switch (options_.on_unavailable) {
    case UnavailablePolicy::local: {
      std::lock_guard lock(local_mu_);
      auto it = local_.find(key);
      if (it == local_.end()) {
        sdk::BreakerData fresh;
        fresh.jitter_seed = sdk::jitter_seed(key);
        it = local_.emplace(std::string(key), std::move(fresh)).first;
      }
      r = sdk::apply(it->second, op, policy, now, args);
      break;
    }
    case UnavailablePolicy::allow:
      r.allowed = op == BreakerOp::acquire;
      r.state = BreakerState::closed;
      r.now_ms = now;
      break;
    case UnavailablePolicy::deny:
      r.allowed = false;
      r.state = BreakerState::open;
      r.now_ms = now;
      break;
  }
  r.degraded = true;
  return r;
}

sdk::BreakerResult RedisBreakerBackend::apply_op(std::string_view key, BreakerOp op,
                                                 const sdk::BreakerPolicy& policy,
                                                 std::optional<std::int64_t> now_ms,
                                                 const sdk::BreakerOpArgs& op_args) {
  sdk::require_valid_policy(policy);
  std::optional<std::int64_t> now = now_ms;
  if (!now && !options_.use_server_time) now = host_now_ms();
  // After an outage the view waits for a round trip to succeed: that ends the outage (its log
  // line, the local breakers) as it did before there was a view.
  if (subscription_ && subscription_->live() &&
      nodes_in_outage_.load(std::memory_order_relaxed) == 0) {
    std::int64_t error = 0;
    std::int64_t view_now = 0;
    if (now) {
      view_now = *now;
    } else {
      // Redis' clock, as measured from the replies, moved on by our steady clock; the margin
      // adds 1ms for the offset's rounding to whole milliseconds.
      const std::int64_t clock = server_clock_.load(std::memory_order_relaxed);
      error = clock < 0 ? -1 : (clock & 0xFFFF) + 1;
      view_now = steady_us() / 1000 + (clock >> 16);
    }
    if (error >= 0) {
      if (auto r = view_->answer(key, op, policy, view_now, error)) {
        local_answers_.fetch_add(1, std::memory_order_relaxed);
        return *r;
      }
    }
  }
  auto [hash_key, zset_key] = redis_keys(key);
  // max_timeout: a backed-off (and jittered, at most 1.5x) opening outlives 2 x timeout.
  auto ttl = std::max(
      {options_.key_ttl, policy.sliding_window * 2, policy.timeout * 2, policy.max_timeout * 2});
  std::vector<std::string> args{
      hash_key,
      zset_key,
      quorum_key(key),
      bucket_key(key),
      std::string(sdk::op_name(op)),
      now ? std::to_string(*now) : std::string(),
      std::to_string(policy.failure_threshold),
      std::to_string(policy.success_threshold),
      std::to_string(policy.timeout.count()),
      std::to_string(policy.half_open_max_calls),
      std::to_string(policy.sliding_window.count()),
      std::to_string(ttl.count()),
      channel_,
      std::string(key),
      std::to_string(op_args.until_ms),
      std::to_string(op_args.for_ms),
      std::to_string(sdk::detail::ten_thousandths(policy.backoff_multiplier)),
      std::to_string(sdk::detail::ten_thousandths(policy.jitter)),
      std::to_string(policy.max_timeout.count()),
      std::to_string(policy.quorum.min_instances),
      std::string(op_args.instance),
      policy.mode == sdk::BreakerMode::rate ? "rate" : "count",
      std::to_string(policy.bucket.count()),
      std::to_string(policy.minimum_calls),
      std::to_string(sdk::detail::ten_thousandths(policy.failure_rate)),
      std::to_string(policy.slow_call_duration.count()),
      std::to_string(sdk::detail::ten_thousandths(policy.slow_call_rate)),
      std::to_string(op_args.duration_ms)};
  Reply reply;
  std::string failure;
  round_trips_.fetch_add(1, std::memory_order_relaxed);
  if (view_) view_->reserve(key);
  const std::int64_t sent_us = steady_us();
  NodePool* pool = nullptr;
  if (!route_script(hash_key, args, reply, failure, pool)) {
    if (pool != nullptr) outage_started(*pool, failure);
    return fallback(key, op, policy, now_ms, op_args);
  }
  const std::int64_t received_us = now ? 0 : steady_us();
  outage_ended(*pool, sent_us);
  if (pool != pool_.get()) outage_ended(*pool_, sent_us);  // a routed call proves the map
  if (reply.is_error() || reply.type != Reply::Type::array || reply.elements.size() != 17) {
    // Redis answered, but not as the script does (foreign data in the keys, a script error,
    // or a server that is not Redis): say so on every call and answer by the policy.
    std::string why = reply.is_error() ? reply.str : "unexpected reply to the breaker script";
    log_.error("redis breaker operation failed", {{"breaker", key}, {"reason", why}});
    if (view_) view_->forget(key);
    return fallback(key, op, policy, now_ms, op_args);
  }
  const auto& e = reply.elements;
  sdk::BreakerResult r;
  r.allowed = e[0].integer == 1;
  r.state = state_from(e[1].integer);
  if (e[2].integer >= 0) {
    if (auto why = reason_from(e[4].str))
      r.transition = sdk::StateChange{state_from(e[2].integer), state_from(e[3].integer), *why};
  }
  auto count = [](long long n) { return static_cast<std::uint32_t>(std::max<long long>(n, 0)); };
  r.failures = count(e[5].integer);
  r.calls = count(e[15].integer);
  r.slow_calls = count(e[16].integer);
  if (e[6].integer >= 0) r.opened_at_ms = e[6].integer;
  r.forced_open = e[7].integer == 1;
  r.now_ms = e[8].integer;
  const long long open_duration = e[14].integer > 0 ? e[14].integer : policy.timeout.count();
  if (e[10].integer == 1 && !r.forced_open)
    r.open_until_ms = std::max<long long>(e[6].integer + open_duration, e[13].integer);
  if (!now) observe_server_time(r.now_ms, sent_us, received_us);
  if (view_) {
    ViewedBreaker seen;
    seen.version = e[9].integer;
    seen.data.state = state_from(e[10].integer);
    seen.data.opened_at_ms = std::max<long long>(e[6].integer, 0);
    seen.data.half_open_since_ms = e[11].integer;
    seen.data.open_until_ms = e[13].integer;
    seen.data.open_duration_ms = e[14].integer;
    seen.data.forced_open = r.forced_open;
    if (read_failures(e[12], e[5].integer, seen))
      view_->update(key, seen, BreakerView::Source::reply);
    else
      view_->forget(key);
  }
  return r;
}

std::vector<std::string> RedisBreakerBackend::keys() {
  std::vector<std::string> out;
  if (!options_.cluster) {
    scan_keys(*pool_, out);
  } else {
    std::vector<NodePool*> masters;
    {
      std::unique_lock lock(cluster_mu_);
      std::string failure;
      if (map_stale_) refresh_map(lock, failure);
      for (const auto& m : map_.masters()) masters.push_back(&pool_of(m));
    }
    for (NodePool* pool : masters) scan_keys(*pool, out);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool RedisBreakerBackend::scan_keys(NodePool& pool, std::vector<std::string>& out) {
  Slot& slot = slot_for_this_thread(pool);
  {
    std::unique_lock lock(slot.mu);
    ++slot.exclusive_waiting;  // so that the callers holding it hand it back, not on
    slot.changed.wait(lock, [&] { return !slot.busy; });
    --slot.exclusive_waiting;
    slot.busy = true;
  }
  struct Release {
    Slot& slot;
    ~Release() {
      std::lock_guard lock(slot.mu);
      RedisBreakerBackend::release(slot);
    }
  } held{slot};
  ConnectionFailure cf;
  if (!slot.conn->ensure_connected(cf)) return false;
  std::string cursor = "0";
  std::string pattern = options_.key_prefix + ":{*}:s";
  do {
    Reply reply;
    if (!slot.conn->command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}, reply, cf))
      return false;
    if (reply.type != Reply::Type::array || reply.elements.size() != 2) return false;
    cursor = reply.elements[0].str;
    for (const auto& k : reply.elements[1].elements) {
      auto open = k.str.find('{');
      auto close = k.str.rfind('}');
      if (open != std::string::npos && close != std::string::npos && close > open)
        out.push_back(k.str.substr(open + 1, close - open - 1));
    }
  } while (cursor != "0");
  return true;
}

bool RedisBreakerBackend::reread(const std::vector<std::string>& resources,
                                 std::vector<Reply>& replies, std::string& failure) {
  // A key without an answer (its master down, its slot unserved) keeps a nil reply: the view
  // forgets it, and its next operation asks Redis. The rest are re-read all the same.
  replies.assign(resources.size(), Reply{});
  std::map<NodePool*, std::vector<std::size_t>> by_node;
  for (std::size_t i = 0; i < resources.size(); ++i) {
    bool no_map = false;
    NodePool* pool = pool_for_slot(key_slot(redis_keys(resources[i]).first), failure, no_map);
    if (pool != nullptr && !pool->outage.load()) by_node[pool].push_back(i);
  }
  bool any = resources.empty();
  for (auto& [pool, indexes] : by_node) {
    std::lock_guard lock(pool->reader_mu);
    if (!pool->reader)
      pool->reader = std::make_unique<RedisConnection>(pool->address, options_.command_timeout);
    ConnectionFailure cf;
    std::vector<std::vector<std::string>> commands;
    for (std::size_t i : indexes) {
      auto [hash_key, zset_key] = redis_keys(resources[i]);
      commands.push_back({"EVAL", kBreakerReadScript, "2", hash_key, zset_key});
    }
    std::vector<Reply> got;
    if (!pool->reader->ensure_connected(cf) || !pool->reader->pipeline(commands, got, cf)) {
      failure = cf.message;
      continue;
    }
    any = true;
    // A key whose slot moved meanwhile answers MOVED: the view forgets it until its next call.
    for (std::size_t k = 0; k < indexes.size(); ++k) replies[indexes[k]] = std::move(got[k]);
  }
  return any;
}

}  // namespace crosscut::redis
