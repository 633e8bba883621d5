#include "breaker_view.hpp"

#include <algorithm>
#include <charconv>
#include <mutex>

namespace crosscut::redis {
namespace {

using sdk::BreakerOp;
using sdk::BreakerState;

// The next space-separated field of `text` as an integer.
bool next_integer(std::string_view& text, std::int64_t& out) {
  auto space = text.find(' ');
  if (space == std::string_view::npos) return false;
  if (!BreakerView::parse_time(text.substr(0, space), out)) return false;
  text.remove_prefix(space + 1);
  return true;
}

}  // namespace

bool BreakerView::parse_time(std::string_view text, std::int64_t& ms, bool member) {
  if (member) text = text.substr(0, text.find(':'));
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::uint32_t BreakerView::unlisted(std::int64_t failures, std::size_t listed) {
  return failures > static_cast<std::int64_t>(listed)
             ? static_cast<std::uint32_t>(failures - static_cast<std::int64_t>(listed))
             : 0;
}

std::optional<sdk::BreakerResult> BreakerView::answer(std::string_view key, BreakerOp op,
                                                      const sdk::BreakerPolicy& policy,
                                                      std::int64_t now_ms,
                                                      std::int64_t margin_ms) const {
  std::shared_lock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.version < 0) return std::nullopt;
  const sdk::BreakerData& d = it->second.data;
  const std::int64_t timeout = policy.timeout.count();
  // Failures beyond the listed ones are older than all of them: outside the window once the
  // oldest listed is; before that only Redis can count them.
  if (it->second.unlisted_failures > 0 && !d.failure_times.empty() &&
      d.failure_times.front() + policy.sliding_window.count() > now_ms)
    return std::nullopt;
  // Rate mode: every outcome in CLOSED is counted in Redis' buckets, which the view does not
  // copy; so only acquire is answered here.
  const bool rate = policy.mode == sdk::BreakerMode::rate;
  if (rate && op != BreakerOp::acquire) return std::nullopt;
  sdk::BreakerResult r;
  switch (op) {
    case BreakerOp::acquire:
      if (d.state == BreakerState::closed) {
        r.allowed = true;
      } else if (d.state != BreakerState::open ||
                 (!d.forced_open && now_ms + margin_ms >= sdk::open_ends_ms(d, policy))) {
        return std::nullopt;  // HALF_OPEN permits and the step to HALF_OPEN are Redis' to give
      }
      break;
    case BreakerOp::success:
      if (d.state != BreakerState::closed) return std::nullopt;
      break;
    case BreakerOp::state:
      // An expired trial period ends at the next operation, a state query included.
      if (d.state == BreakerState::half_open &&
          now_ms + margin_ms >= d.half_open_since_ms + timeout)
        return std::nullopt;
      // Within the clock's margin of the timeout, OPEN and HALF_OPEN are Redis' to tell apart.
      if (d.state == BreakerState::open && !d.forced_open &&
          now_ms + margin_ms >= sdk::open_ends_ms(d, policy) &&
          now_ms - margin_ms < sdk::open_ends_ms(d, policy))
        return std::nullopt;
      break;
    default:
      return std::nullopt;
  }
  r.now_ms = now_ms;
  r.state = sdk::reported_state(d, policy, now_ms);
  // Rate mode: the counts are in Redis' buckets, which the copy does not hold; none are given.
  r.failures = rate ? 0 : sdk::failures_in_window(d, policy, now_ms);
  r.forced_open = d.forced_open;
  if (d.state != BreakerState::closed) r.opened_at_ms = d.opened_at_ms;
  if (d.state == BreakerState::open && !d.forced_open)
    r.open_until_ms = sdk::open_ends_ms(d, policy);
  return r;
}

void BreakerView::update(std::string_view key, const ViewedBreaker& seen, Source source,
                         std::uint64_t stamp) {
  std::unique_lock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (source == Source::reply)
      entries_.emplace(std::string(key), seen).first->second.updates = ++updates_;
    return;
  }
  const std::uint64_t updates = it->second.updates;
  if (source == Source::reread) {
    if (seen.version >= it->second.version || updates == stamp) {
      it->second = seen;
      it->second.updates = updates;
    }
  } else if (seen.version >= it->second.version) {
    it->second = seen;
    it->second.updates = ++updates_;
  }
}

std::uint64_t BreakerView::stamp(std::string_view key) const {
  std::shared_lock lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? 0 : it->second.updates;
}

void BreakerView::reserve(std::string_view key) {
  {
    std::shared_lock lock(mu_);
    if (entries_.find(key) != entries_.end()) return;
  }
  std::unique_lock lock(mu_);
  ViewedBreaker placeholder;
  placeholder.version = -1;
  entries_.emplace(std::string(key), placeholder);
}

void BreakerView::forget(std::string_view key) {
  std::unique_lock lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) entries_.erase(it);
}

std::vector<std::string> BreakerView::keys() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [key, _] : entries_) out.push_back(key);
  return out;
}

std::size_t BreakerView::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

std::optional<std::pair<std::string, ViewedBreaker>> BreakerView::parse_publication(
    std::string_view text) {
  ViewedBreaker seen;
  std::int64_t st = 0;
  std::int64_t forced = 0;
  std::int64_t failures = 0;
  if (!next_integer(text, seen.version) || !next_integer(text, st) ||
      !next_integer(text, seen.data.opened_at_ms) ||
      !next_integer(text, seen.data.half_open_since_ms) || !next_integer(text, forced) ||
      !next_integer(text, seen.data.open_until_ms) ||
      !next_integer(text, seen.data.open_duration_ms) || !next_integer(text, failures))
    return std::nullopt;
  if (st < 0 || st > 2 || seen.version <= 0) return std::nullopt;
  seen.data.state = static_cast<BreakerState>(st);
  seen.data.forced_open = forced == 1;
  auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view times = text.substr(0, space);
  std::string_view resource = text.substr(space + 1);
  if (resource.empty()) return std::nullopt;
  if (times != "-") {
    while (!times.empty()) {
      auto comma = times.find(',');
      auto field = times.substr(0, comma);
      std::int64_t t = 0;
      if (!parse_time(field, t, true)) return std::nullopt;
      seen.data.failure_times.push_back(t);
      if (comma == std::string_view::npos) break;
      times.remove_prefix(comma + 1);
    }
    std::sort(seen.data.failure_times.begin(), seen.data.failure_times.end());
  }
  seen.unlisted_failures = unlisted(failures, seen.data.failure_times.size());
  return std::make_pair(std::string(resource), std::move(seen));
}

}  // namespace crosscut::redis
