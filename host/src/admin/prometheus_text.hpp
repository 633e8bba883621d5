// The Prometheus text exposition format (version 0.0.4): what `GET /metrics` answers.
#pragma once

#include <string>
#include <vector>

#include "crosscut/runtime.hpp"

namespace crosscut::admin {

// "text/plain; version=0.0.4; charset=utf-8"
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// Each family as `# HELP`, `# TYPE` and its samples; label values and help texts escaped as the
// format says (backslash, double quote, line feed). A family without samples is written with
// its HELP and TYPE only. Names are written as given: they must be valid metric names.
std::string render_prometheus(const std::vector<MetricFamily>& families);

}  // namespace crosscut::admin
