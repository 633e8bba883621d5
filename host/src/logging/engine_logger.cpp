#include "logging/engine_logger.hpp"

#include "logging/exception_description.hpp"
#include "logging/log_engine.hpp"
#include "logging/utf8_sanitize.hpp"

namespace crosscut::logging {

EngineLogger::EngineLogger(LogEngine& engine, std::string name, std::string category,
                           sdk::Level level)
    : LogEndpoint(level), engine_(engine), name_(std::move(name)), category_(std::move(category)) {
  sanitize_utf8(name_);
  sanitize_utf8(category_);
}

void EngineLogger::log(sdk::Level level, std::string_view message, sdk::Fields fields) noexcept {
  if (should_log(level)) engine_.submit(*this, level, message, fields, nullptr);
}

void EngineLogger::log_exception(sdk::Level level, std::string_view message,
                                 const std::exception& e, sdk::Fields fields) noexcept {
  if (!should_log(level)) return;
  try {
    const sdk::Value exception = exception_value(describe_exception(e));
    engine_.submit(*this, level, message, fields, &exception);
  } catch (...) {
    engine_.submit(*this, level, message, fields, nullptr);
  }
}

void EngineLogger::log_exception(sdk::Level level, std::string_view message, std::exception_ptr e,
                                 sdk::Fields fields) noexcept {
  if (!should_log(level)) return;
  if (!e) {
    engine_.submit(*this, level, message, fields, nullptr);
    return;
  }
  try {
    const sdk::Value exception = exception_value(describe_exception(e));
    engine_.submit(*this, level, message, fields, &exception);
  } catch (...) {
    engine_.submit(*this, level, message, fields, nullptr);
  }
}

}  // namespace crosscut::logging
