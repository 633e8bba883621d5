// Wiring of `handlers: [{type, on: [...], options}]`: which event names exist, and the
// subscriptions that connect an EventHandler component to the bus.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "crosscut/sdk/bus.hpp"
#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/event_handler.hpp"

namespace crosscut {

// The event names `on:` may list: the SDK's (error, breaker_transition, metrics_batch,
// profile_sample) plus any the runtime adds. Not synchronised: fill it before binding.
// The views it hands out stay valid for its lifetime (bus subscriptions keep them).
class EventNames {
 public:
  EventNames();
  void add(std::string_view name);
  // The stored spelling of `name`, or an empty view when it is unknown.
  std::string_view find(std::string_view name) const;
  const std::deque<std::string>& all() const { return names_; }

 private:
  std::deque<std::string> names_;
};

// The schema of the `handlers` list: type (required), on (required), options (checked by the
// handler's own schema).
sdk::OptionSpec handlers_schema();

// The events one handlers[i] item asks for, in its order, without repeats. An unknown or
// missing name is a ConfigError at that element ("did you mean" when one is close).
std::vector<std::string_view> handler_events(const sdk::ConfigView& item, const EventNames& names);

// Subscribes `handler` to each event. The handler must outlive the returned subscriptions:
// destroy (or reset) them before the component.
std::vector<sdk::Subscription> bind_handler(sdk::EventBus& bus, sdk::EventHandler& handler,
                                            const std::vector<std::string_view>& events);

}  // namespace crosscut
