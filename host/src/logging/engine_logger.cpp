#include "logging/engine_logger.hpp"

#include "core/exception_description.hpp"
#include "core/utf8_sanitize.hpp"
#include "logging/log_engine.hpp"

namespace crosscut::logging {

sdk::Value exception_value(const sdk::ExceptionInfo& info) {
  sdk::Value::Array nested;
  nested.reserve(info.nested.size());
  for (const auto& n : info.nested) nested.push_back(exception_value(n));
  sdk::Value::Object o;
  o.emplace_back("type", info.type);
  o.emplace_back("message", info.message);
  o.emplace_back("nested", sdk::Value(std::move(nested)));
  return sdk::Value(std::move(o));
}

EngineLogger::EngineLogger(LogEngine& engine, std::string name, std::string category,
                           sdk::Level level)
    : LogEndpoint(level), engine_(engine), name_(std::move(name)), category_(std::move(category)) {
  core::sanitize_utf8(name_);
  core::sanitize_utf8(category_);
}

void EngineLogger::log(sdk::Level level, std::string_view message, sdk::Fields fields) noexcept {
  if (should_log(level)) engine_.submit(*this, level, message, fields, nullptr);
}

void EngineLogger::log_exception(sdk::Level level, std::string_view message,
                                 const std::exception& e, sdk::Fields fields) noexcept {
  if (!should_log(level)) return;
  try {
    const sdk::Value exception = exception_value(core::describe_exception(e));
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
    const sdk::Value exception = exception_value(core::describe_exception(e));
    engine_.submit(*this, level, message, fields, &exception);
  } catch (...) {
    engine_.submit(*this, level, message, fields, nullptr);
  }
}

}  // namespace crosscut::logging
