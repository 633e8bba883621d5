#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>

#include "bus/async_event_bus.hpp"
#include "bus/bounded_ring.hpp"
#include "crosscut/log_context.hpp"

namespace crosscut {
namespace {

using bus_detail::BoundedRing;

// An idle worker spins, then yields, for BusOptions::idle_spin before it sleeps: one that
// just went idle is usually about to get more, and waking a sleeping thread costs the
// emitter a system call (and, on virtual machines, often tens of microseconds).
constexpr int kClockEvery = 64;
constexpr int kProducerSpinRounds = 256;
constexpr std::uint64_t kReportEvery = 1024;
constexpr std::uint64_t kFencedEvery = 64;
constexpr std::chrono::milliseconds kDrainRecheck{1};

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

thread_local std::string_view t_current_event;
thread_local const void* t_worker_of = nullptr;  // the Core whose worker this thread is

std::uint32_t emitter_index() noexcept {
  static std::atomic<std::uint32_t> next{0};
  thread_local const std::uint32_t index = next.fetch_add(1, std::memory_order_relaxed);
  return index;
}

struct HandlerSlot {
  explicit HandlerSlot(sdk::EventBus::Handler h) : handler(std::move(h)) {}
  sdk::EventBus::Handler handler;
  std::atomic<bool> active{true};
  std::atomic<int> running{0};  // invocations in progress (or about to check `active`)
};

thread_local const HandlerSlot* t_running_slot = nullptr;

struct HandlerList {
  std::string name;
  std::vector<std::shared_ptr<HandlerSlot>> slots;  // subscription order
};
using HandlerTable = std::vector<HandlerList>;

struct Item {
  std::string_view name;
  std::shared_ptr<const void> event;
  ContextSnapshot context;
};

struct WorkerQueue {
  explicit WorkerQueue(std::size_t capacity) : ring(capacity) {}

  // A full barrier between a thread's last write and its next read, for the two
  // "I announce, then I look" handshakes of this queue (producer: event written, is the worker
  // asleep? worker: going to sleep, is anything queued? and the same for blocked producers).
  // Every such point is a read-modify-write of one word, so the points are totally ordered
  // and whichever comes second sees what the first announced. (A fence would do on x86 at
  // the same cost, but ThreadSanitizer does not model fences.)
  void order_point() { order.fetch_add(1, std::memory_order_seq_cst); }

  BoundedRing<Item> ring;
  alignas(64) std::atomic<std::uint64_t> order{0};
  alignas(64) std::atomic<bool> sleeping{false};
  std::atomic<std::uint32_t> wake_seq{0};
  alignas(64) std::atomic<std::uint64_t> done{0};  // every ticket below is handled or discarded
  std::atomic<std::uint64_t> drain_target{0};      // the furthest ticket a drain() waits for
  std::atomic<std::uint32_t> space_seq{0};
  std::atomic<std::uint32_t> blocked{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failures{0};
};

void bump(std::atomic<std::uint64_t>& single_writer_counter) {
  single_writer_counter.store(single_writer_counter.load(std::memory_order_relaxed) + 1,
                              std::memory_order_relaxed);
}

}  // namespace

std::string_view current_bus_event() noexcept {
  return t_current_event;
}

class AsyncEventBus::Core {
 public:
  Core(const BusOptions& options, sdk::Logger& log)
      : policy_(options.overflow),
        idle_spin_(options.idle_spin),
        log_(log),
        table_(std::make_shared<const HandlerTable>()) {
    for (std::size_t i = 0; i < options.workers; ++i)
      queues_.push_back(std::make_unique<WorkerQueue>(options.queue_size));
  }

  std::size_t worker_count() const { return queues_.size(); }

  sdk::Subscription subscribe(const std::shared_ptr<Core>& self, std::string_view name,
                              Handler handler) {
    auto slot = std::make_shared<HandlerSlot>(std::move(handler));
    {
      std::lock_guard lock(table_mu_);
      auto next = std::make_shared<HandlerTable>(*table_);
      auto it = std::find_if(next->begin(), next->end(),
                             [&](const HandlerList& l) { return l.name == name; });
      if (it == next->end()) it = next->insert(next->end(), HandlerList{std::string(name), {}});
      it->slots.push_back(slot);
      table_ = std::move(next);
      table_version_.fetch_add(1, std::memory_order_release);
    }
    std::weak_ptr<Core> weak = self;
    return sdk::Subscription([weak, slot, key = std::string(name)] {
      slot->active.store(false, std::memory_order_seq_cst);
      if (auto core = weak.lock()) core->remove(key, slot.get());
      // A handler that cancels its own subscription cannot wait for itself.
      const int self_running = t_running_slot == slot.get() ? 1 : 0;
      for (int v = slot->running.load(); v > self_running; v = slot->running.load())
        slot->running.wait(v);
      // Nothing can call the handler any more: release what it holds now, on this thread,
      // rather than whenever a worker drops its copy of the table.
      if (self_running == 0) slot->handler = nullptr;
    });
  }

  void publish(std::string_view name, std::shared_ptr<const void> event) {
    if (stopping_.load(std::memory_order_relaxed)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    WorkerQueue& q = *queues_[emitter_index() % queues_.size()];
    Item item{name, std::move(event), current_context()};
    if (!q.ring.try_push(item) && !overflow(q, item)) return;
    // Pairs with the worker's order point between announcing sleep and re-checking the ring.
    q.order_point();
    if (q.sleeping.load(std::memory_order_relaxed)) wake(q);
  }

  bool drain(std::chrono::milliseconds timeout) {
    if (t_worker_of == this) return false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::uint64_t> targets;
    targets.reserve(queues_.size());
    for (auto& q : queues_) {
      targets.push_back(q->ring.pushed());
      auto current = q->drain_target.load(std::memory_order_relaxed);
      while (current < targets.back() &&
             !q->drain_target.compare_exchange_weak(current, targets.back())) {
      }
    }
    auto reached = [&] {
      for (std::size_t i = 0; i < queues_.size(); ++i)
        if (queues_[i]->done.load(std::memory_order_acquire) < targets[i]) return false;
      return true;
    };
    if (reached()) {
      report_drops(/*force=*/true);
      return true;
    }
    drain_waiters_.fetch_add(1, std::memory_order_seq_cst);
    bool ok = false;
    {
      // Workers publish progress without a fence, so a notification can be missed; the
      // short re-check interval bounds that (drain is for shutdown and tests, not hot).
      std::unique_lock lock(drain_mu_);
      while (!(ok = reached())) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) break;
        drain_cv_.wait_until(lock, std::min(deadline, now + kDrainRecheck));
      }
    }
    drain_waiters_.fetch_sub(1, std::memory_order_seq_cst);
    report_drops(/*force=*/true);  // whoever drains learns about drops before it returns
    return ok;
  }

  void run_worker(std::size_t index) {
    t_worker_of = this;
    WorkerQueue& q = *queues_[index];
    std::shared_ptr<const HandlerTable> table;
    std::uint64_t table_version = ~std::uint64_t{0};
    std::uint64_t handled = 0;
    Item item;
    std::uint64_t ticket = 0;
    int idle = 0;
    auto idle_since = std::chrono::steady_clock::now();
    auto process = [&] {
      // A fenced check (pairing with the blocked producer's fence) every kFencedEvery events
      // and whenever the queue runs empty bounds a missed wake-up; the plain check in
      // between usually catches a blocked producer at once.
      if (policy_ == OverflowPolicy::block) {
        if (handled % kFencedEvery == 0) q.order_point();
        wake_blocked_producers(q);
      }
      if (table_version_.load(std::memory_order_acquire) != table_version) {
        std::lock_guard lock(table_mu_);
        table = table_;
        table_version = table_version_.load(std::memory_order_relaxed);
      }
      handle(*table, q, item);
      item = Item{};
      q.done.store(ticket + 1, std::memory_order_release);
      notify_drainers(q, ticket + 1);
      if (++handled % kReportEvery == 0) report_drops();
      idle = 0;
    };
    for (;;) {
      if (q.ring.try_pop(item, ticket)) {
        process();
        continue;
      }
      if (idle == 0) {
        if (policy_ == OverflowPolicy::block) {
          q.order_point();
          wake_blocked_producers(q);
        }
        // Empty: every ticket below `ticket` has been taken, and this worker holds none.
        q.done.store(ticket, std::memory_order_release);
        notify_drainers(q, ticket);
        report_drops();
      }
      if (stopping_.load(std::memory_order_acquire)) break;
      if (idle++ == 0) idle_since = std::chrono::steady_clock::now();
      if (idle % kClockEvery != 0) {
        cpu_relax();
        continue;
      }
      const auto waited = std::chrono::steady_clock::now() - idle_since;
      if (waited < idle_spin_) {
        if (waited > idle_spin_ / 2) std::this_thread::yield();
        continue;
      }
      const std::uint32_t seq = q.wake_seq.load(std::memory_order_acquire);
      q.sleeping.store(true, std::memory_order_relaxed);
      q.order_point();
      if (q.ring.try_pop(item, ticket)) {
        q.sleeping.store(false, std::memory_order_relaxed);
        process();
        continue;
      }
      if (!stopping_.load(std::memory_order_acquire))
        q.wake_seq.wait(seq, std::memory_order_acquire);
      q.sleeping.store(false, std::memory_order_relaxed);
      idle = 1;
      idle_since = std::chrono::steady_clock::now();
    }
    t_worker_of = nullptr;
  }

  void stop() {
    stopping_.store(true, std::memory_order_seq_cst);
    for (auto& q : queues_) {
      wake(*q);
      q->space_seq.fetch_add(1, std::memory_order_release);
      q->space_seq.notify_all();
    }
  }

  // After the workers have exited: whatever raced in after stop() is dropped.
  void discard_leftovers() {
    for (auto& q : queues_) {
      Item item;
      std::uint64_t ticket = 0;
      while (q->ring.try_pop(item, ticket)) dropped_.fetch_add(1, std::memory_order_relaxed);
      q->done.store(q->ring.pushed(), std::memory_order_seq_cst);
    }
    report_drops(/*force=*/true);
  }

  BusStats stats() const {
    BusStats s;
    for (const auto& q : queues_) {
      s.published += q->ring.pushed();
      s.delivered += q->delivered.load(std::memory_order_relaxed);
      s.handler_failures += q->failures.load(std::memory_order_relaxed);
    }
    s.dropped = dropped_.load(std::memory_order_relaxed);
    return s;
  }

  std::uint64_t queue_depth() const {
    std::uint64_t depth = 0;
    for (const auto& q : queues_) {
      const std::uint64_t done = q->done.load(std::memory_order_relaxed);
      const std::uint64_t pushed = q->ring.pushed();
      depth += pushed > done ? pushed - done : 0;
    }
    return depth;
  }

 private:
  // false: the event was not queued (dropped and counted).
  bool overflow(WorkerQueue& q, Item& item) {
    switch (policy_) {
      case OverflowPolicy::drop_newest:
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
      case OverflowPolicy::drop_oldest:
        for (;;) {
          Item oldest;
          std::uint64_t ticket = 0;
          if (q.ring.try_pop(oldest, ticket)) dropped_.fetch_add(1, std::memory_order_relaxed);
          if (q.ring.try_push(item)) return true;
        }
      case OverflowPolicy::block:
        break;
    }
    // A worker waiting for room in a queue that only it empties would wait forever.
    if (t_worker_of == this) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    // The worker frees a slot within one handler call: wait that long before sleeping, so a
    // sustained overload costs no system calls on either side.
    // Short, though: on a busy machine a spinning producer takes the CPU the worker needs.
    for (int i = 0; i < kProducerSpinRounds; ++i) {
      if (i % 16 == 15)
        std::this_thread::yield();
      else
        cpu_relax();
      if (q.ring.try_push(item)) return true;
      if (stopping_.load(std::memory_order_relaxed)) break;
    }
    q.blocked.fetch_add(1, std::memory_order_seq_cst);
    bool queued = false;
    for (;;) {
      const std::uint32_t seq = q.space_seq.load(std::memory_order_acquire);
      q.order_point();
      if (q.ring.try_push(item)) {
        queued = true;
        break;
      }
      if (stopping_.load(std::memory_order_acquire)) break;
      if (q.sleeping.load(std::memory_order_relaxed)) wake(q);
      q.space_seq.wait(seq, std::memory_order_acquire);
    }
    q.blocked.fetch_sub(1, std::memory_order_seq_cst);
    if (!queued) dropped_.fetch_add(1, std::memory_order_relaxed);
    return queued;
  }

  static void wake_blocked_producers(WorkerQueue& q) {
    if (q.blocked.load(std::memory_order_relaxed) == 0) return;
    q.space_seq.fetch_add(1, std::memory_order_release);
    q.space_seq.notify_all();
  }

  static void wake(WorkerQueue& q) {
    q.wake_seq.fetch_add(1, std::memory_order_release);
    q.wake_seq.notify_one();
  }

  void handle(const HandlerTable& table, WorkerQueue& q, Item& item) {
    const HandlerList* list = nullptr;
    for (const auto& l : table)
      if (l.name == item.name) {
        list = &l;
        break;
      }
    if (list == nullptr) return;
    ContextRestore context(std::move(item.context));
    const auto previous_event = std::exchange(t_current_event, item.name);
    const sdk::EventRef ref{item.name, item.event.get()};
    for (const auto& slot : list->slots) invoke(*slot, q, ref);
    t_current_event = previous_event;
  }

  void invoke(HandlerSlot& slot, WorkerQueue& q, const sdk::EventRef& ref) {
    slot.running.fetch_add(1, std::memory_order_seq_cst);
    if (slot.active.load(std::memory_order_seq_cst)) {
      const auto* previous = std::exchange(t_running_slot, &slot);
      try {
        slot.handler(ref);
        bump(q.delivered);
      } catch (const std::exception& e) {
        bump(q.failures);
        log_.error("event handler threw; the other handlers still ran",
                   {{"event", ref.name}, {"exception", e.what()}});
      } catch (...) {
        bump(q.failures);
        log_.error("event handler threw; the other handlers still ran",
                   {{"event", ref.name}, {"exception", "unknown exception"}});
      }
      t_running_slot = previous;
    }
    slot.running.fetch_sub(1, std::memory_order_seq_cst);
    if (!slot.active.load(std::memory_order_seq_cst)) slot.running.notify_all();
  }

  void remove(const std::string& name, const HandlerSlot* slot) {
    std::lock_guard lock(table_mu_);
    auto next = std::make_shared<HandlerTable>(*table_);
    for (auto it = next->begin(); it != next->end(); ++it) {
      if (it->name != name) continue;
      std::erase_if(it->slots, [&](const auto& s) { return s.get() == slot; });
      if (it->slots.empty()) next->erase(it);
      break;
    }
    table_ = std::move(next);
    table_version_.fetch_add(1, std::memory_order_release);
  }

  // Wakes drain() callers once this queue reaches the furthest point one of them waits for.
  void notify_drainers(WorkerQueue& q, std::uint64_t done) {
    if (drain_waiters_.load(std::memory_order_relaxed) == 0) return;
    if (done < q.drain_target.load(std::memory_order_relaxed)) return;
    { std::lock_guard lock(drain_mu_); }
    drain_cv_.notify_all();
  }

  // At most one warning a second, naming how many events were dropped since the last one.
  // A forced report (drain, stop) waits for a report already under way, so whoever drains
  // finds the warning logged when drain() returns.
  void report_drops(bool force = false) {
    const std::uint64_t total = dropped_.load(std::memory_order_relaxed);
    if (!force && total == reported_drops_.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(report_mu_);
    const std::uint64_t previous = reported_drops_.load(std::memory_order_relaxed);
    if (total <= previous) return;
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    if (!force && now - last_report_ns_ < 1'000'000'000) return;
    last_report_ns_ = now;
    reported_drops_.store(total, std::memory_order_relaxed);
    log_.warning("event bus queue overflow: events dropped",
                 {{"dropped", total - previous},
                  {"dropped_total", total},
                  {"policy", sdk::overflow_policy_name(policy_)}});
  }

  const OverflowPolicy policy_;
  const std::chrono::nanoseconds idle_spin_;
  sdk::Logger& log_;
  std::vector<std::unique_ptr<WorkerQueue>> queues_;

  std::mutex table_mu_;
  std::shared_ptr<const HandlerTable> table_;
  std::atomic<std::uint64_t> table_version_{0};

  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> reported_drops_{0};
  std::mutex report_mu_;
  std::int64_t last_report_ns_ = 0;  // guarded by report_mu_

  std::atomic<int> drain_waiters_{0};
  std::mutex drain_mu_;
  std::condition_variable drain_cv_;
};

namespace {
BusOptions normalized(BusOptions o) {
  o.workers = std::max<std::size_t>(o.workers, 1);
  o.queue_size = std::max<std::size_t>(o.queue_size, 1);
  return o;
}
}  // namespace

AsyncEventBus::AsyncEventBus(BusOptions options, sdk::Logger& log)
    : options_(normalized(options)), core_(std::make_shared<Core>(options_, log)) {
  workers_.reserve(core_->worker_count());
  for (std::size_t i = 0; i < core_->worker_count(); ++i)
    workers_.emplace_back([core = core_.get(), i] { core->run_worker(i); });
}

AsyncEventBus::~AsyncEventBus() {
  core_->stop();
  for (auto& t : workers_) t.join();
  core_->discard_leftovers();
}

sdk::Subscription AsyncEventBus::subscribe(std::string_view event_name, Handler handler) {
  return core_->subscribe(core_, event_name, std::move(handler));
}

void AsyncEventBus::publish(std::string_view event_name, std::shared_ptr<const void> event) {
  core_->publish(event_name, std::move(event));
}

bool AsyncEventBus::drain(std::chrono::milliseconds timeout) {
  return core_->drain(timeout);
}

BusStats AsyncEventBus::stats() const {
  return core_->stats();
}

std::uint64_t AsyncEventBus::queue_depth() const {
  return core_->queue_depth();
}

}  // namespace crosscut
