#include "breaker/breaker_config.hpp"

namespace crosscut {

namespace {

const sdk::OptionTable<sdk::BreakerQuorum>& quorum_table() {
  static const sdk::OptionTable<sdk::BreakerQuorum> table{
      sdk::bind_option("min_instances", &sdk::BreakerQuorum::min_instances,
                       "distinct instances whose failures must be in the window to open (1: any)")
          .min(1)
          .max(1000),
  };
  return table;
}

}  // namespace

const sdk::OptionTable<sdk::BreakerPolicy>& breaker_policy_table() {
  using sdk::bind_option;
  using sdk::BreakerPolicy;
  static const sdk::OptionTable<BreakerPolicy> table{
      bind_option("failure_threshold", &BreakerPolicy::failure_threshold,
                  "failures inside the sliding window that open the breaker")
          .min(1),
      bind_option("success_threshold", &BreakerPolicy::success_threshold,
                  "successes in HALF_OPEN that close the breaker")
          .min(1),
      bind_option("timeout", &BreakerPolicy::timeout,
                  "how long an opening lasts before a trial call, before backoff and jitter (and "
                  "how long a trial period lasts)")
          .positive(),
      bind_option("half_open_max_calls", &BreakerPolicy::half_open_max_calls,
                  "permits granted in one HALF_OPEN period")
          .min(1),
      bind_option("sliding_window", &BreakerPolicy::sliding_window, "how long a failure counts")
          .positive(),
      bind_option("backoff_multiplier", &BreakerPolicy::backoff_multiplier,
                  "factor on the open duration at each re-open from HALF_OPEN (1 to 100)"),
      bind_option("max_timeout", &BreakerPolicy::max_timeout,
                  "longest open duration with backoff (0: timeout, no growth)"),
      bind_option("jitter", &BreakerPolicy::jitter,
                  "spread of each open duration, as a fraction of it (0 to 0.5)"),
      bind_option("quorum", &BreakerPolicy::quorum,
                  "opening also needs failures from this many instances")
          .members(quorum_table()),
      bind_option("mode", &BreakerPolicy::mode,
                  "what opens a CLOSED breaker: failure_threshold failures in the window (count) "
                  "or the failure and slow-call rates of its outcomes (rate)")
          .choices({{"count", sdk::BreakerMode::count}, {"rate", sdk::BreakerMode::rate}}),
      bind_option("bucket", &BreakerPolicy::bucket,
                  "rate mode: the time bucket outcomes are counted in (at most sliding_window)")
          .positive(),
      bind_option("minimum_calls", &BreakerPolicy::minimum_calls,
                  "rate mode: outcomes in the window before a rate can open the breaker")
          .min(1),
      bind_option("failure_rate", &BreakerPolicy::failure_rate,
                  "rate mode: share of failed outcomes in the window that opens (above 0, at "
                  "most 1)"),
      bind_option("slow_call_duration", &BreakerPolicy::slow_call_duration,
                  "rate mode: a call this long or longer is slow (0: no slow-call rule)"),
      bind_option("slow_call_rate", &BreakerPolicy::slow_call_rate,
                  "rate mode: share of slow outcomes in the window that opens (above 0, at most "
                  "1)"),
  };
  return table;
}

sdk::ConfigSchema breakers_schema() {
  sdk::OptionSpec backend;
  backend.key = "backend";
  backend.type = sdk::OptionType::any;  // a component: checked against its own schema
  backend.default_value = "{type: memory}";
  backend.description = "breaker backend component";
  sdk::OptionSpec defaults;
  defaults.key = "defaults";
  defaults.type = sdk::OptionType::object;
  defaults.description = "policy of every breaker";
  defaults.children = breaker_policy_table().schema();
  sdk::OptionSpec overrides;
  overrides.key = "overrides";
  overrides.type = sdk::OptionType::any;  // keys are resource names: read below
  overrides.description = "per-resource policy: {\"exchange/region/type\": {...}}";
  sdk::OptionSpec instance;
  instance.key = "instance";
  instance.type = sdk::OptionType::string;
  instance.default_value = "";
  instance.description = "this process's id in breaker quorums (empty: <service>/<host>/<pid>)";
  return {backend, defaults, overrides, instance};
}

BreakerConfig read_breaker_config(sdk::ConfigNode& breakers, const config::NodeLocation& where) {
  using sdk::ConfigNode;
  BreakerConfig out;
  ConfigNode& defaults = *breakers.find("defaults");
  const config::NodeLocation defaults_at{where.file, config::child_path(where.path, "defaults")};
  out.defaults =
      breaker_policy_table().read(sdk::ConfigView(&defaults, defaults_at.file, defaults_at.path));
  if (auto problem = sdk::check_policy(out.defaults))
    config::fail_at(defaults, defaults_at, *problem);
  if (ConfigNode* instance = breakers.find("instance");
      instance != nullptr && instance->kind == ConfigNode::Kind::scalar) {
    if (instance->scalar.size() > sdk::kMaxBreakerInstanceBytes)
      config::fail_at(
          *instance, {where.file, config::child_path(where.path, "instance")},
          "must be at most " + std::to_string(sdk::kMaxBreakerInstanceBytes) + " bytes");
    out.instance = instance->scalar;
  }

  ConfigNode* overrides = breakers.find("overrides");
  if (!overrides || overrides->kind == ConfigNode::Kind::null) return out;
  const config::NodeLocation overrides_at{where.file, config::child_path(where.path, "overrides")};
  if (overrides->kind != ConfigNode::Kind::map)
    config::fail_at(*overrides, overrides_at, "expected a map of resource keys to policies");
  const sdk::ConfigSchema partial = breaker_policy_table().schema_without_defaults();
  for (auto& [key, node] : overrides->entries) {
    const config::NodeLocation at{where.file, overrides_at.path + "." + key};
    config::validate_options(node, partial, at);
    sdk::BreakerPolicy p =
        breaker_policy_table().read(sdk::ConfigView(&node, at.file, at.path), out.defaults);
    if (auto problem = sdk::check_policy(p)) config::fail_at(node, at, *problem);
    out.overrides.emplace(key, p);
  }
  return out;
}

}  // namespace crosscut
