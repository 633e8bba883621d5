#include "metrics/metrics_options.hpp"

namespace crosscut::metrics {

const sdk::OptionTable<MetricsOptions>& metrics_options_table() {
  using sdk::bind_option;
  static const sdk::OptionTable<MetricsOptions> table{
      bind_option("sink", &MetricsOptions::sink,
                  "record sink (under sinks:) that receives the batches; none: not published"),
      bind_option("topic", &MetricsOptions::topic, "topic of the batch records"),
      bind_option("flush_interval", &MetricsOptions::flush_interval,
                  "how often due minutes are published")
          .positive()
          .min(sdk::kMinimumInterval),
      bind_option("grace", &MetricsOptions::grace,
                  "how long after a minute ends before it is published"),
      bind_option("horizon", &MetricsOptions::horizon,
                  "minutes starting further ahead than this are published at once")
          .positive(),
      bind_option("max_buffered_bytes", &MetricsOptions::max_buffered_bytes,
                  "batches kept while the sink refuses them; the oldest are dropped beyond")
          .min(64 * 1024),
      bind_option("failure_threshold", &MetricsOptions::failure_threshold,
                  "consecutive refused flushes before an error is raised")
          .min(1),
      bind_option("idle_release_after", &MetricsOptions::idle_release_after,
                  "counters of targets named by input are released once published and idle "
                  "this long"),
  };
  return table;
}

MetricsOptions parse_metrics_options(const sdk::ConfigView& view) {
  MetricsOptions o = metrics_options_table().read(view);
  if (o.topic.empty()) view.fail("topic", "must not be empty");
  return o;
}

}  // namespace crosscut::metrics
