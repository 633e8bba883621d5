#include "metrics/metrics_options.hpp"

namespace crosscut::metrics {

sdk::ConfigSchema metrics_schema() {
  using sdk::option;
  using T = sdk::OptionType;
  sdk::ConfigSchema schema;
  schema.push_back(
      option("sink", T::string, "",
             "record sink (under sinks:) that receives the batches; none: not published"));
  schema.push_back(option("topic", T::string, "ws.metrics", "topic of the batch records"));
  auto interval =
      option("flush_interval", T::duration, "60s", "how often due minutes are published");
  interval.positive = true;
  schema.push_back(interval);
  schema.push_back(
      option("grace", T::duration, "2s", "how long after a minute ends before it is published"));
  auto horizon = option("horizon", T::duration, "10m",
                        "minutes starting further ahead than this are published at once");
  horizon.positive = true;
  schema.push_back(horizon);
  auto buffered = option("max_buffered_batches", T::integer, "10000",
                         "batches kept while the sink refuses them; the oldest are dropped beyond");
  buffered.min = 1;
  schema.push_back(buffered);
  auto threshold = option("failure_threshold", T::integer, "3",
                          "consecutive refused flushes before an error is raised");
  threshold.min = 1;
  schema.push_back(threshold);
  return schema;
}

MetricsOptions parse_metrics_options(const sdk::ConfigView& view) {
  MetricsOptions o;
  o.sink = view.get_string("sink", o.sink);
  o.topic = view.get_string("topic", o.topic);
  if (o.topic.empty()) view.fail("topic", "must not be empty");
  auto positive = [&](const char* key, std::chrono::nanoseconds fallback) {
    auto d = view.get_duration(key, fallback);
    if (d <= std::chrono::nanoseconds::zero()) view.fail(key, "must be greater than 0");
    return d;
  };
  o.flush_interval = positive("flush_interval", o.flush_interval);
  o.horizon = positive("horizon", o.horizon);
  o.grace = view.get_duration("grace", o.grace);
  if (o.grace < std::chrono::nanoseconds::zero()) view.fail("grace", "must not be negative");
  auto at_least_one = [&](const char* key, std::size_t fallback) {
    auto n = view.get_int(key, static_cast<std::int64_t>(fallback));
    if (n < 1) view.fail(key, "must be at least 1");
    return static_cast<std::size_t>(n);
  };
  o.max_buffered_batches = at_least_one("max_buffered_batches", o.max_buffered_batches);
  o.failure_threshold = at_least_one("failure_threshold", o.failure_threshold);
  return o;
}

}  // namespace crosscut::metrics
