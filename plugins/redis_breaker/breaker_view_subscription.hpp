// BreakerViewSubscription: keeps a BreakerView current. A thread of its own holds two
// connections: one SUBSCRIBEd to the script's channel (every change any process makes arrives
// there), one to re-read every viewed key each `view_refresh` and after each (re)subscription.
//
// live() is true only while subscribed and after the re-read that followed subscribing; while
// it is false the backend sends every operation to Redis. A lost subscription (an error, end of
// stream, or a PING left unanswered for a refresh period) is logged once, then retried with a
// pause that doubles from 100ms up to reconnect_backoff_max.
//
// Thread-safety: live() and subscriptions() from any thread; the rest is the thread's own.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "breaker_view.hpp"
#include "crosscut/sdk/sdk.hpp"
#include "redis_breaker_options.hpp"
#include "redis_connection.hpp"

namespace crosscut::redis {

// Fills `seen`'s failures from a script reply: `times` (an array of the newest failure
// members) and `failures` (how many there are). False when a member is not "<ms>:<seq>".
bool read_failures(const Reply& times, long long failures, ViewedBreaker& seen);

class BreakerViewSubscription {
 public:
  // Runs the read script for each resource, a reply per resource in order (a cluster routes
  // each to its master); false with `failure` set when it could not.
  using Reread = std::function<bool(const std::vector<std::string>& resources,
                                    std::vector<Reply>& replies, std::string& failure)>;

  // `view` must outlive this object. `key_of(resource)` gives the resource's two Redis keys.
  // Without `reread`, re-reads go to `address` on a connection of the subscription's own.
  BreakerViewSubscription(
      const RedisBreakerOptions& options, const RedisAddress& address, std::string channel,
      BreakerView& view, sdk::Logger& log,
      std::function<std::pair<std::string, std::string>(std::string_view)> keys_of,
      Reread reread = {});
  BreakerViewSubscription(const BreakerViewSubscription&) = delete;
  BreakerViewSubscription& operator=(const BreakerViewSubscription&) = delete;
  ~BreakerViewSubscription();  // stops and joins the thread

  bool live() const { return live_.load(std::memory_order_acquire); }
  // Waits until live() or `timeout` passes; says whether it is live.
  bool wait_live(std::chrono::milliseconds timeout);
  // Subscriptions made so far (the first, then one per restore).
  std::uint64_t subscriptions() const { return subscriptions_.load(); }
  // Re-read passes completed (for tests and metrics).
  std::uint64_t refreshes() const { return refreshes_.load(); }

 private:
  void run();
  bool subscribe(std::string& failure);
  // Re-reads every viewed key; false when the reading connection failed.
  bool refresh(std::string& failure);
  // Handles what the subscribed connection delivers within `wait`; false (the subscription
  // lost) when it failed.
  bool drain(std::chrono::milliseconds wait);
  void handle(const Reply& pushed);
  void lost(const std::string& why);
  void pause(std::chrono::milliseconds d);
  void set_live(bool live);

  const RedisBreakerOptions options_;
  const std::string channel_;
  BreakerView& view_;
  sdk::Logger& log_;
  std::function<std::pair<std::string, std::string>(std::string_view)> keys_of_;
  Reread reread_;
  RedisConnection subscriber_;
  RedisConnection reader_;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> live_{false};
  std::mutex live_mu_;
  std::condition_variable live_cv_;
  std::atomic<std::uint64_t> subscriptions_{0};
  std::atomic<std::uint64_t> refreshes_{0};
  bool reported_loss_ = false;
  bool ping_outstanding_ = false;
  std::thread thread_;
};

}  // namespace crosscut::redis
