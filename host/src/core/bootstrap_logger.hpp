// The logger used before the logging configuration is in force (and for messages about
// loading it): one JSON line per record on stderr, never lost.
#pragma once

#include "crosscut/sdk/log.hpp"

namespace crosscut::core {

class BootstrapLogger : public sdk::Logger {
 public:
  explicit BootstrapLogger(std::string name) : name_(std::move(name)) {}
  bool should_log(sdk::Level level) const noexcept override { return level >= sdk::Level::info; }
  void log(sdk::Level level, std::string_view message, sdk::Fields fields) noexcept override;

 private:
  std::string name_;
};

}  // namespace crosscut::core
