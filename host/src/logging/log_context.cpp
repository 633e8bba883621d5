#include "crosscut/log_context.hpp"

#include <utility>

namespace crosscut {
namespace {
thread_local ContextSnapshot t_current;
}  // namespace

ContextSnapshot current_context() noexcept { return t_current; }

std::string current_correlation_id() {
  if (!t_current) return {};
  for (const auto& [k, v] : *t_current)
    if (k == "correlation_id" && v.is_string()) return v.as_string();
  return {};
}

ContextScope::ContextScope(sdk::Value::Object fields) : previous_(t_current) {
  auto merged = previous_ ? std::make_shared<sdk::Value::Object>(*previous_)
                          : std::make_shared<sdk::Value::Object>();
  for (auto& [key, value] : fields) {
    bool replaced = false;
    for (auto& [k, v] : *merged) {
      if (k == key) {
        v = std::move(value);
        replaced = true;
        break;
      }
    }
    if (!replaced) merged->emplace_back(key, std::move(value));
  }
  t_current = std::move(merged);
}

ContextScope::~ContextScope() { t_current = std::move(previous_); }

ContextRestore::ContextRestore(ContextSnapshot snapshot) noexcept
    : previous_(std::exchange(t_current, std::move(snapshot))) {}

ContextRestore::~ContextRestore() { t_current = std::move(previous_); }

}  // namespace crosscut
