// Context fields (a correlation id and the like) attached to every log record made on a
// thread while a ContextScope lives there, and carried by the event bus into the handlers of
// events emitted inside the scope.
#pragma once

#include <memory>
#include <string>

#include "crosscut/export.hpp"
#include "crosscut/sdk/value.hpp"

namespace crosscut {

// An immutable set of context fields; null when there are none. Cheap to copy.
using ContextSnapshot = std::shared_ptr<const sdk::Value::Object>;

// The calling thread's current context fields.
CROSSCUT_API ContextSnapshot current_context() noexcept;

// The `correlation_id` field of the current context, or "" when unset.
CROSSCUT_API std::string current_correlation_id();

// Adds fields for the lifetime of the scope (nested scopes add to, and may override, the
// fields of enclosing ones). Scopes must be destroyed in reverse order on the same thread.
class CROSSCUT_API ContextScope {
 public:
  explicit ContextScope(sdk::Value::Object fields);
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;
  ~ContextScope();

 private:
  ContextSnapshot previous_;
};

// Installs a captured snapshot for the lifetime of the object (used by bus workers so that
// a handler logs with the context of the code that emitted its event).
class CROSSCUT_API ContextRestore {
 public:
  explicit ContextRestore(ContextSnapshot snapshot) noexcept;
  ContextRestore(const ContextRestore&) = delete;
  ContextRestore& operator=(const ContextRestore&) = delete;
  ~ContextRestore();

 private:
  ContextSnapshot previous_;
};

}  // namespace crosscut
