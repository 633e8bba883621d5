#include "admin/prometheus_text.hpp"

#include <cmath>
#include <cstdio>

namespace crosscut::admin {
namespace {

void escape(std::string& out, std::string_view text, bool quotes) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quotes)
      out += "\\\"";
    else
      out += c;
  }
}

void value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  // Whole numbers (every counter) as integers; others with all their digits.
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.17g", v);
  out += buf;
}

}  // namespace

std::string render_prometheus(const std::vector<MetricFamily>& families) {
  std::string out;
  out.reserve(8192);
  for (const auto& f : families) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    escape(out, f.help, false);
    out += "\n# TYPE ";
    out += f.name;
    out += f.type == MetricFamily::Type::counter ? " counter\n" : " gauge\n";
    for (const auto& s : f.samples) {
      out += f.name;
      if (!s.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
          if (i != 0) out += ',';
          out += s.labels[i].first;
          out += "=\"";
          escape(out, s.labels[i].second, true);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      value(out, s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace crosscut::admin
