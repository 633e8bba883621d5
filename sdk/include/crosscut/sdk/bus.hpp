// The event bus as components see it: subscribe by type or by name, emit, drain.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>

#include "crosscut/sdk/abi.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// A borrowed, type-erased event: valid only during the handler call.
struct EventRef {
  std::string_view name;
  const void* data = nullptr;

  // The event as E, or nullptr when it is another type (checked by name).
  template <class E>
  const E* as() const {
    return name == E::name ? static_cast<const E*>(data) : nullptr;
  }
};

// Unsubscribes when destroyed or reset. Safe to outlive the bus (then it does nothing).
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& o) noexcept : cancel_(std::exchange(o.cancel_, nullptr)) {}
  Subscription& operator=(Subscription&& o) noexcept {
    if (this != &o) {
      reset();
      cancel_ = std::exchange(o.cancel_, nullptr);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }

  // After reset() returns, the handler is not running and will not run again.
  void reset() {
    if (auto c = std::exchange(cancel_, nullptr)) c();
  }
  bool active() const { return static_cast<bool>(cancel_); }

 private:
  std::function<void()> cancel_;
};

// Thread-safety: every member may be called from any thread. emit() enqueues and returns;
// handlers run on bus worker threads in subscription order, and events emitted by one thread
// reach each handler in emission order. A handler may run concurrently with handlers for
// events emitted by other threads, so handlers must be thread-safe. A handler that throws is
// logged and counted; the other handlers still run.
class CROSSCUT_SDK_API EventBus {
 public:
  using Handler = std::function<void(const EventRef&)>;
  virtual ~EventBus() = default;

  // event_name must have static storage duration (the `name` of an event type does).
  virtual Subscription subscribe(std::string_view event_name, Handler handler) = 0;
  virtual void publish(std::string_view event_name, std::shared_ptr<const void> event) = 0;
  // Waits until every event queued before the call has been handled; false on timeout.
  virtual bool drain(std::chrono::milliseconds timeout) = 0;

  template <class E, class F>
  Subscription on(F&& handler) {
    return subscribe(E::name, [h = std::forward<F>(handler)](const EventRef& e) {
      if (const E* ev = e.as<E>()) h(*ev);
    });
  }
  template <class E>
  void emit(E event) {
    publish(E::name, std::make_shared<const E>(std::move(event)));
  }
};

CROSSCUT_SDK_END_NAMESPACE
