// BreakerView: this process's copy of the breaker state it has seen in Redis, so that the
// operations that change nothing shared (acquire on CLOSED, acquire on OPEN before its open period
// ends, state, success on CLOSED) are answered without a round trip; for a rate-mode policy,
// whose every CLOSED outcome counts in Redis, only acquire is. Redis stays the truth: every
// other operation runs the script, and its reply, the script's publications and the periodic
// re-reads (BreakerViewSubscription) update the view.
//
// Each copy carries the key's version (the script raises it with every change), and an update
// older than the copy is ignored, so a late publication cannot undo a newer reply.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crosscut/sdk/breaker_state_machine.hpp"

namespace crosscut::redis {

// One key's state as Redis held it at `version` (0: the key did not exist; -1: a placeholder
// made before the key's first round trip, which answers nothing but takes publications).
struct ViewedBreaker {
  std::int64_t version = 0;
  // permits_taken and successes are not kept (HALF_OPEN asks Redis); failure_times holds the
  // newest 16 failures at most.
  sdk::BreakerData data;
  // Failures older than those listed (beyond 16). While the oldest listed one is inside the
  // window they may be too, and the view asks Redis; after it, they are outside as well.
  std::uint32_t unlisted_failures = 0;
  // When this copy last took a reply or a publication, on the view's own counter (BreakerView
  // keeps it): a re-read sent before that may be older than the copy.
  std::uint64_t updates = 0;
};

class BreakerView {
 public:
  // The answer Redis would give to `op` at `now_ms`, when the view can give it without
  // changing shared state; nullopt when the operation must go to Redis. `margin_ms` is how far
  // `now_ms` may be off the store's clock: an OPEN breaker that close to the end of its open period
  // asks Redis.
  std::optional<sdk::BreakerResult> answer(std::string_view key, sdk::BreakerOp op,
                                           const sdk::BreakerPolicy& policy, std::int64_t now_ms,
                                           std::int64_t margin_ms) const;

  // Where an update comes from. A reply or a publication replaces the copy unless the copy is
  // newer. A re-read replaces it when it is not older, or when no reply or publication came
  // since it was sent (`stamp`, from stamp() before sending): then it is the latest state,
  // which also repairs a version that went back (a key that expired and was written again, a
  // failover that lost the last write). A reply that overtook the re-read (this process's own
  // write, executed after the read) is kept, so a process always sees its own writes.
  enum class Source { reply, publication, reread };
  // Publications and re-reads skip keys the view does not hold (breakers this process never
  // used, or forgot); a reply adds them.
  void update(std::string_view key, const ViewedBreaker& seen, Source source,
              std::uint64_t stamp = 0);
  // The copy's last update, for a re-read about to be sent (0 for an unknown key).
  std::uint64_t stamp(std::string_view key) const;
  // Makes a placeholder for a key about to be sent to Redis the first time, so that a
  // publication racing the reply is kept and the older reply then ignored.
  void reserve(std::string_view key);
  // Forgets a key: its next operation asks Redis.
  void forget(std::string_view key);
  std::vector<std::string> keys() const;
  std::size_t size() const;

  // Parses a publication of the breaker script ("v st oa hs fo ou failures times resource");
  // nullopt when it is not one.
  static std::optional<std::pair<std::string, ViewedBreaker>> parse_publication(
      std::string_view text);
  // An integer; with `member`, one failure as the script lists it ("<ms>:<seq>"), read as its
  // time in ms.
  static bool parse_time(std::string_view text, std::int64_t& ms, bool member = false);
  // Failures beyond those whose times were listed.
  static std::uint32_t unlisted(std::int64_t failures, std::size_t listed);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, ViewedBreaker, Hash, std::equal_to<>> entries_;
  std::uint64_t updates_ = 0;  // counts every reply and publication taken; guarded by mu_
};

}  // namespace crosscut::redis
