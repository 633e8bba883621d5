// The engine's implementation of a named logger (name, category): what a crosscut::Logger
// handle points to and what HostContext::logger hands to plugins.
#pragma once

#include <string>
#include <string_view>

#include "crosscut/logger.hpp"
#include "crosscut/sdk/events.hpp"

namespace crosscut::logging {

class LogEngine;

// {"type":…,"message":…,"nested":[…]}: the shape of `extra.exception` in a record.
sdk::Value exception_value(const sdk::ExceptionInfo& info);

// Thread-safe. Owned by its LogEngine; lives until the engine is destroyed.
class EngineLogger final : public LogEndpoint {
 public:
  EngineLogger(LogEngine& engine, std::string name, std::string category, sdk::Level level);

  // Valid UTF-8 (repaired at construction).
  const std::string& name() const noexcept { return name_; }
  const std::string& category() const noexcept { return category_; }

  void log(sdk::Level level, std::string_view message, sdk::Fields fields) noexcept override;
  void log_exception(sdk::Level level, std::string_view message, const std::exception& e,
                     sdk::Fields fields) noexcept override;
  void log_exception(sdk::Level level, std::string_view message, std::exception_ptr e,
                     sdk::Fields fields) noexcept override;

 private:
  LogEngine& engine_;
  std::string name_;
  std::string category_;
};

}  // namespace crosscut::logging
