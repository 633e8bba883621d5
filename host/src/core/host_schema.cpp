#include "core/host_schema.hpp"

#include "breaker/breaker_config.hpp"
#include "bus/async_event_bus.hpp"
#include "bus/handler_binding.hpp"
#include "crosscut/errors.hpp"
#include "errors/errors_config.hpp"
#include "logging/log_config.hpp"
#include "metrics/metrics_options.hpp"

namespace crosscut::core {
namespace {

using sdk::OptionSpec;
using sdk::OptionType;

OptionSpec any(std::string key, std::string description) {
  OptionSpec s;
  s.key = std::move(key);
  s.type = OptionType::any;
  s.description = std::move(description);
  return s;
}

}  // namespace

sdk::ConfigSchema host_schema() {
  return {
      {.key = "crosscut",
       .type = OptionType::integer,
       .default_value = "1",
       .description = "configuration schema version (this host reads version 1)"},
      {.key = "service",
       .type = OptionType::object,
       .description = "who this process is, in error DTOs and logs",
       .children = {{.key = "name",
                     .type = OptionType::string,
                     .default_value = "crosscut",
                     .description = "service name"},
                    {.key = "environment",
                     .type = OptionType::string,
                     .default_value = "development",
                     .description = "deployment environment"}}},
      {.key = "plugins",
       .type = OptionType::object,
       .description = "where plugins are found and which are loaded",
       .children = {{.key = "paths",
                     .type = OptionType::string_list,
                     .description = "folders searched before the install default"},
                    {.key = "load",
                     .type = OptionType::string_list,
                     .description = "plugin names to load (default: every plugin found)"},
                    {.key = "check_permissions",
                     .type = OptionType::boolean,
                     .default_value = "true",
                     .description = "refuse plugins writable by users other than their owner"}}},
      {.key = "logging",
       .type = OptionType::object,
       .description = "log level, sinks, PII masking, sampling",
       .children = logging::log_options_table().schema()},
      any("sinks", "named record sinks: {name: {type: ..., options...}}"),
      {.key = "breakers",
       .type = OptionType::object,
       .description = "circuit breakers",
       .children = breakers_schema()},
      {.key = "errors",
       .type = OptionType::object,
       .description = "error dispatcher: sink, topic, rules",
       .children = errors_options_table().schema()},
      {.key = "metrics",
       .type = OptionType::object,
       .description = "minute batch counter publication",
       .children = metrics::metrics_options_table().schema()},
      {.key = "bus",
       .type = OptionType::object,
       .description = "event bus queue",
       .children = bus_options_table().schema()},
      {.key = "admin",
       .type = OptionType::object,
       .description = "the admin endpoint: /health, /ready, /metrics, POST /reload",
       .children = {{.key = "listen",
                     .type = OptionType::string,
                     .default_value = "",
                     .description = "\"host:port\" or a Unix socket path; empty: off"}}},
      handlers_schema(),
      any("inputs", "agent-mode inputs"),
  };
}

}  // namespace crosscut::core
