#include "breaker_view_subscription.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "breaker_script.hpp"

namespace crosscut::redis {
namespace {

constexpr std::size_t kRefreshBatch = 256;

// A read script reply as a viewed breaker; nullopt when the keys hold foreign data.
std::optional<ViewedBreaker> viewed_from(const Reply& r) {
  if (r.type != Reply::Type::array || r.elements.size() != 9) return std::nullopt;
  const auto& e = r.elements;
  ViewedBreaker seen;
  seen.version = e[0].integer;
  if (e[1].integer < 0 || e[1].integer > 2) return std::nullopt;
  seen.data.state = static_cast<sdk::BreakerState>(e[1].integer);
  seen.data.opened_at_ms = e[2].integer;
  seen.data.half_open_since_ms = e[3].integer;
  seen.data.forced_open = e[4].integer == 1;
  seen.data.open_until_ms = e[7].integer;
  seen.data.open_duration_ms = e[8].integer;
  if (!read_failures(e[6], e[5].integer, seen)) return std::nullopt;
  return seen;
}

}  // namespace

bool read_failures(const Reply& times, long long failures, ViewedBreaker& seen) {
  seen.data.failure_times.clear();
  for (const auto& t : times.elements) {
    std::int64_t ms = 0;
    if (!BreakerView::parse_time(t.str, ms, true)) return false;
    seen.data.failure_times.push_back(ms);
  }
  std::sort(seen.data.failure_times.begin(), seen.data.failure_times.end());
  seen.unlisted_failures = BreakerView::unlisted(failures, seen.data.failure_times.size());
  return true;
}

BreakerViewSubscription::BreakerViewSubscription(
    const RedisBreakerOptions& options, const RedisAddress& address, std::string channel,
    BreakerView& view, sdk::Logger& log,
    std::function<std::pair<std::string, std::string>(std::string_view)> keys_of, Reread reread)
    : options_(options),
      channel_(std::move(channel)),
      view_(view),
      log_(log),
      keys_of_(std::move(keys_of)),
      reread_(std::move(reread)),
      subscriber_(address, options.command_timeout),
      reader_(address, options.command_timeout),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  thread_ = std::thread([this] { run(); });
}

BreakerViewSubscription::~BreakerViewSubscription() {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

bool BreakerViewSubscription::wait_live(std::chrono::milliseconds timeout) {
  std::unique_lock lock(live_mu_);
  return live_cv_.wait_for(lock, timeout, [this] { return live(); });
}

void BreakerViewSubscription::set_live(bool live) {
  {
    std::lock_guard lock(live_mu_);
    live_.store(live, std::memory_order_release);
  }
  if (live) live_cv_.notify_all();
}

void BreakerViewSubscription::pause(std::chrono::milliseconds d) {
  pollfd fd{wake_fd_, POLLIN, 0};
  ::poll(&fd, 1, static_cast<int>(d.count()));
}

bool BreakerViewSubscription::subscribe(std::string& failure) {
  ConnectionFailure cf;
  Reply reply;
  if (!subscriber_.ensure_connected(cf) ||
      !subscriber_.command({"SUBSCRIBE", channel_}, reply, cf)) {
    failure = cf.message;
    return false;
  }
  if (reply.type != Reply::Type::array || reply.elements.empty() ||
      reply.elements[0].str != "subscribe") {
    failure = "SUBSCRIBE " + channel_ +
              " refused: " + (reply.is_error() ? reply.str : std::string("unexpected reply"));
    subscriber_.close();
    return false;
  }
  return true;
}

bool BreakerViewSubscription::refresh(std::string& failure) {
  ConnectionFailure cf;
  if (!reread_ && !reader_.ensure_connected(cf)) {
    failure = cf.message;
    return false;
  }
  const std::vector<std::string> keys = view_.keys();
  std::vector<std::vector<std::string>> commands;
  std::vector<Reply> replies;
  std::vector<std::uint64_t> stamps;
  for (std::size_t first = 0; first < keys.size(); first += kRefreshBatch) {
    // Publications that arrived meanwhile are handled between batches, not after the pass.
    if (stopping_ || (first > 0 && !drain(std::chrono::milliseconds(0)))) {
      failure = stopping_ ? "stopping" : "subscription lost during the re-read";
      return false;
    }
    const std::size_t last = std::min(keys.size(), first + kRefreshBatch);
    commands.clear();
    stamps.clear();
    for (std::size_t i = first; i < last; ++i) stamps.push_back(view_.stamp(keys[i]));
    if (reread_) {
      const std::vector<std::string> batch(keys.begin() + static_cast<std::ptrdiff_t>(first),
                                           keys.begin() + static_cast<std::ptrdiff_t>(last));
      if (!reread_(batch, replies, failure)) return false;
    } else {
      for (std::size_t i = first; i < last; ++i) {
        auto [hash_key, zset_key] = keys_of_(keys[i]);
        commands.push_back({"EVAL", kBreakerReadScript, "2", hash_key, zset_key});
      }
      if (!reader_.pipeline(commands, replies, cf)) {
        failure = cf.message;
        return false;
      }
    }
    for (std::size_t i = first; i < last; ++i) {
      if (auto seen = viewed_from(replies[i - first]))
        view_.update(keys[i], *seen, BreakerView::Source::reread, stamps[i - first]);
      else
        view_.forget(keys[i]);  // foreign data or a script error: let the script report it
    }
  }
  refreshes_.fetch_add(1);
  return true;
}

bool BreakerViewSubscription::drain(std::chrono::milliseconds wait) {
  std::vector<Reply> pushed;
  ConnectionFailure cf;
  if (!subscriber_.read_pushed(pushed, wait, wake_fd_, cf)) {
    lost(cf.message);
    return false;
  }
  for (const auto& m : pushed) handle(m);
  return true;
}

void BreakerViewSubscription::handle(const Reply& pushed) {
  if (pushed.type != Reply::Type::array || pushed.elements.empty()) return;
  const std::string& kind = pushed.elements[0].str;
  if (kind == "message" && pushed.elements.size() == 3) {
    if (auto p = BreakerView::parse_publication(pushed.elements[2].str))
      view_.update(p->first, p->second, BreakerView::Source::publication);
  } else if (kind == "pong") {
    ping_outstanding_ = false;
  }
}

void BreakerViewSubscription::lost(const std::string& why) {
  set_live(false);
  subscriber_.close();
  if (reported_loss_) return;
  reported_loss_ = true;
  log_.warning(
      "breaker view unsubscribed: every breaker operation goes to Redis until the subscription is "
      "restored",
      {{"channel", channel_}, {"reason", why}});
}

void BreakerViewSubscription::run() {
  using clock = std::chrono::steady_clock;
  const auto period = options_.view_refresh;
  std::chrono::milliseconds backoff{0};
  clock::time_point next_refresh{};
  while (!stopping_) {
    std::string failure;
    if (!subscriber_.connected()) {
      if (!subscribe(failure) || !refresh(failure)) {
        lost(failure);
        backoff = std::min(options_.reconnect_backoff_max,
                           std::max(std::chrono::milliseconds(100), backoff * 2));
        pause(backoff);
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      subscriptions_.fetch_add(1);
      set_live(true);
      if (reported_loss_) {
        reported_loss_ = false;
        log_.info("breaker view subscribed again: operations that change nothing are local",
                  {{"channel", channel_}});
      }
      next_refresh = clock::now() + period;
      ping_outstanding_ = false;
    }
    const auto wait = std::max(
        std::chrono::milliseconds(0),
        std::chrono::duration_cast<std::chrono::milliseconds>(next_refresh - clock::now()));
    if (!drain(wait)) continue;
    if (clock::now() < next_refresh) continue;
    // The pong may wait behind a backlog of publications: read what has arrived first.
    if (ping_outstanding_ && (!drain(std::chrono::milliseconds(0)) || ping_outstanding_)) {
      if (subscriber_.connected()) lost("no answer to PING within view_refresh");
      continue;
    }
    ConnectionFailure cf;
    if (!subscriber_.send({"PING"}, cf)) {
      lost(cf.message);
      continue;
    }
    ping_outstanding_ = true;
    // A failed re-read leaves the subscription (and so the view) live: publications still
    // arrive; the next period tries again on a new connection.
    if (!refresh(failure) && subscriber_.connected())
      log_.warning("breaker view re-read failed", {{"reason", failure}});
    next_refresh = clock::now() + period;
  }
}

}  // namespace crosscut::redis
