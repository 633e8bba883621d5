// Breaker acquire + record (success) on the memory backend, next to the obvious
// implementation: one std::mutex around a std::unordered_map<std::string, BreakerData> running
// the same state machine. 1 and 2 threads; each thread on its own key, or all on one hot key.
// Prints the ratio table (mutex_map time / memory backend time per case) at the end.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "crosscut/sdk/breaker_state_machine.hpp"
#include "memory_breaker/memory_breaker_backend.hpp"
#include "peer_ratio_reporter.hpp"

namespace {

using crosscut::sdk::BreakerOp;
using crosscut::sdk::BreakerPolicy;
using crosscut::sdk::BreakerResult;

class SystemClock : public crosscut::sdk::Clock {
 public:
  std::chrono::system_clock::time_point now() const noexcept override {
    return std::chrono::system_clock::now();
  }
};

// The peer: what one would write first.
class MutexMapBackend final : public crosscut::sdk::BreakerBackend {
 public:
  explicit MutexMapBackend(const crosscut::sdk::Clock& clock) : clock_(clock) {}

 protected:
  BreakerResult apply_op(std::string_view key, BreakerOp op, const BreakerPolicy& policy,
                         std::optional<std::int64_t> now_ms,
                         const crosscut::sdk::BreakerOpArgs& args) override {
    crosscut::sdk::require_valid_policy(policy);
    const std::int64_t now =
        now_ms
            ? *now_ms
            : std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
                  .count();
    std::lock_guard lock(mu_);
    return crosscut::sdk::apply(breakers_[std::string(key)], op, policy, now, args);
  }

 private:
  const crosscut::sdk::Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, crosscut::sdk::BreakerData> breakers_;
};

const SystemClock& system_clock() {
  static const SystemClock clock;
  return clock;
}

crosscut::sdk::BreakerBackend& memory_backend() {
  static crosscut::memory_breaker::MemoryBreakerBackend backend(system_clock());
  return backend;
}

crosscut::sdk::BreakerBackend& peer_backend() {
  static MutexMapBackend backend(system_clock());
  return backend;
}

enum class Keys { distinct, hot };
enum class Time { explicit_ms, clock };

void acquire_record(benchmark::State& state, crosscut::sdk::BreakerBackend& backend, Keys keys,
                    Time time) {
  const BreakerPolicy policy;  // the seed's defaults
  const std::string key = keys == Keys::hot
                              ? std::string("upbit/korea/ticker")
                              : "upbit/korea/ticker/" + std::to_string(state.thread_index());
  const std::int64_t now = 1'737'619'200'000;
  std::optional<std::int64_t> at;
  if (time == Time::explicit_ms) at = now;
  for (auto _ : state) {
    BreakerResult r = backend.apply(key, BreakerOp::acquire, policy, at);
    benchmark::DoNotOptimize(r);
    if (r.allowed) r = backend.apply(key, BreakerOp::success, policy, at);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  struct Impl {
    const char* name;
    crosscut::sdk::BreakerBackend& (*backend)();
  };
  const Impl impls[] = {{"memory", memory_backend}, {"mutex_map", peer_backend}};
  for (const auto& impl : impls) {
    for (auto [keys, keys_name] :
         {std::pair{Keys::distinct, "distinct_keys"}, std::pair{Keys::hot, "hot_key"}}) {
      for (auto [time, time_name] :
           {std::pair{Time::explicit_ms, "explicit_time"}, std::pair{Time::clock, "clock"}}) {
        const std::string name = std::string(impl.name) + "/" + keys_name + "/" + time_name;
        auto* b = benchmark::RegisterBenchmark(
            name.c_str(), [impl, keys = keys, time = time](benchmark::State& s) {
              acquire_record(s, impl.backend(), keys, time);
            });
        b->Threads(1)->Threads(2)->MinTime(0.1);
      }
    }
  }
  return crosscut::bench::run_with_ratios(argc, argv, "memory", {"mutex_map"});
}
