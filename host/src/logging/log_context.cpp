#include "crosscut/log_context.hpp"

#include <algorithm>
#include <utility>

#include "logging/context_fields.hpp"

namespace crosscut {
namespace {
thread_local ContextSnapshot t_current;
}  // namespace

namespace logging {
thread_local constinit const sdk::Value::Object* t_context_fields
    __attribute__((tls_model("initial-exec"))) = nullptr;
}  // namespace logging

ContextSnapshot current_context() noexcept {
  return t_current;
}

std::string current_correlation_id() {
  if (!t_current) return {};
  for (const auto& [k, v] : *t_current)
    if (k == "correlation_id" && v.is_string()) return v.as_string();
  return {};
}

ContextScope::ContextScope(sdk::Value::Object fields) : previous_(t_current) {
  auto merged = previous_ ? std::make_shared<sdk::Value::Object>(*previous_)
                          : std::make_shared<sdk::Value::Object>();
  for (auto& field : fields) {
    auto same = std::find_if(merged->begin(), merged->end(),
                             [&](const auto& entry) { return entry.first == field.first; });
    if (same != merged->end())
      same->second = std::move(field.second);
    else
      merged->push_back(std::move(field));
  }
  t_current = std::move(merged);
  logging::t_context_fields = t_current.get();
}

ContextScope::~ContextScope() {
  t_current = std::move(previous_);
  logging::t_context_fields = t_current.get();
}

ContextRestore::ContextRestore(ContextSnapshot snapshot) noexcept
    : previous_(std::exchange(t_current, std::move(snapshot))) {
  logging::t_context_fields = t_current.get();
}

ContextRestore::~ContextRestore() {
  t_current = std::move(previous_);
  logging::t_context_fields = t_current.get();
}

}  // namespace crosscut
