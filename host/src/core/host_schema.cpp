#include "core/host_schema.hpp"

#include "agent/agent_options.hpp"
#include "bus/handler_binding.hpp"
#include "crosscut/bus.hpp"
#include "crosscut/errors.hpp"
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

sdk::ConfigSchema breaker_policy_schema(bool with_defaults) {
  auto d = [&](const char* v) { return with_defaults ? std::string(v) : std::string(); };
  return {
      {.key = "failure_threshold",
       .type = OptionType::integer,
       .default_value = d("5"),
       .description = "failures inside the sliding window that open the breaker",
       .min = 1},
      {.key = "success_threshold",
       .type = OptionType::integer,
       .default_value = d("2"),
       .description = "successes in HALF_OPEN that close the breaker",
       .min = 1},
      {.key = "timeout",
       .type = OptionType::duration,
       .default_value = d("60s"),
       .description = "how long OPEN lasts before a trial call (and how long a trial period lasts)",
       .positive = true},
      {.key = "half_open_max_calls",
       .type = OptionType::integer,
       .default_value = d("3"),
       .description = "permits granted in one HALF_OPEN period",
       .min = 1},
      {.key = "sliding_window",
       .type = OptionType::duration,
       .default_value = d("300s"),
       .description = "how long a failure counts",
       .positive = true},
  };
}

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
       .children = logging::logging_schema()},
      any("sinks", "named record sinks: {name: {type: ..., options...}}"),
      {.key = "breakers",
       .type = OptionType::object,
       .description = "circuit breakers",
       .children = {any("backend", "breaker backend component (default: {type: memory})"),
                    {.key = "defaults",
                     .type = OptionType::object,
                     .description = "policy of every breaker",
                     .children = breaker_policy_schema(true)},
                    any("overrides", "per-resource policy: {\"exchange/region/type\": {...}}")}},
      {.key = "errors",
       .type = OptionType::object,
       .description = "error dispatcher: sink, topic, rules",
       .children = errors_schema()},
      {.key = "metrics",
       .type = OptionType::object,
       .description = "minute batch counter publication",
       .children = metrics::metrics_schema()},
      {.key = "bus",
       .type = OptionType::object,
       .description = "event bus queue",
       .children = bus_schema()},
      handlers_schema(),
      any("inputs", "agent-mode inputs"),
      {.key = "agent",
       .type = OptionType::object,
       .description = "agent-mode settings",
       .children = agent::agent_schema()},
  };
}

}  // namespace crosscut::core
