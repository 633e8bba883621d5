// Event handlers: plugin code run for events named in YAML (`handlers: [{type, on: [...]}]`).
#pragma once

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/bus.hpp"
#include "crosscut/sdk/component.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// Component kind `event_handler`. handle() runs on bus workers, possibly concurrently for
// events from different emitting threads; it must be thread-safe. Use event.as<E>() to read
// a known event type. An exception thrown from handle() is logged and counted by the bus.
class CROSSCUT_SDK_API EventHandler : public Component {
 public:
  static constexpr ComponentKind component_kind = ComponentKind::event_handler;

  virtual void handle(const EventRef& event) = 0;
};

CROSSCUT_SDK_END_NAMESPACE
