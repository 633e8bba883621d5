#include "logging/log_config.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/timestamp.hpp"
#include "logging/pii_masker.hpp"

namespace crosscut::logging {
namespace {

using sdk::bind_option;
using sdk::OptionType;

const sdk::OptionTable<PiiOptions>& pii_table() {
  static const sdk::OptionTable<PiiOptions> table{
      bind_option("enabled", &PiiOptions::enabled, "mask message and string fields"),
      bind_option("patterns", &PiiOptions::patterns,
                  "built-in patterns: phone_kr, email, card, bearer_token"),
      bind_option("custom", &PiiOptions::custom, "extra RE2 regular expressions to mask"),
      bind_option("keys", &PiiOptions::keys,
                  "field names (any depth, case-insensitive) whose values are masked"),
  };
  return table;
}

const sdk::OptionTable<LogSamplingOptions>& sampling_table() {
  static const sdk::OptionTable<LogSamplingOptions> table{
      bind_option("per_message_per_second", &LogSamplingOptions::per_message_per_second,
                  "records a second per template; 0 disables sampling")
          .max(UINT32_MAX),
  };
  return table;
}

const sdk::OptionTable<LogQueueOptions>& queue_table() {
  static const sdk::OptionTable<LogQueueOptions> table{
      bind_option("capacity", &LogQueueOptions::capacity,
                  "bytes each logging thread's queue holds (rounded up to a power of two)")
          .min(4096)
          .max(std::int64_t{1} << 30),
      bind_option("overflow", &LogQueueOptions::overflow,
                  "when a queue is full: block the caller, or drop_newest (counted and "
                  "reported)")
          .choices(
              {{"block", OverflowPolicy::block}, {"drop_newest", OverflowPolicy::drop_newest}}),
  };
  return table;
}

sdk::Level read_level(const sdk::ConfigView& view, std::string_view key, const std::string& text) {
  if (auto l = sdk::parse_level(text)) return *l;
  view.fail(key, "unknown level '" + text + "' (use debug, info, warning, error, critical or off)");
}

}  // namespace

const sdk::OptionTable<LogOptions>& log_options_table() {
  static const sdk::OptionTable<LogOptions> table{
      bind_option("level", &LogOptions::level,
                  "lowest level written: debug, info, warning, error, critical, off")
          .choices({{"debug", sdk::Level::debug},
                    {"info", sdk::Level::info},
                    {"warning", sdk::Level::warning},
                    {"warn", sdk::Level::warning},
                    {"error", sdk::Level::error},
                    {"critical", sdk::Level::critical},
                    {"off", sdk::Level::off}}),
      sdk::unbound("levels", OptionType::string_map,
                   "per-logger levels, e.g. {orchestrator: debug}; covers dotted children"),
      sdk::unbound("timezone", OptionType::string,
                   "UTC offset of timestamps: +09:00, Z or local (default +00:00)"),
      sdk::unbound("sinks", OptionType::any,
                   "log sinks, each {type: console|rotating_file|..., options}; none: JSON "
                   "lines on stderr"),
      bind_option("pii", &LogOptions::pii,
                  "masking of personal data before records leave the process")
          .members(pii_table()),
      bind_option("sampling", &LogOptions::sampling,
                  "per message template rate limit; the rest is counted and reported")
          .members(sampling_table()),
      bind_option("queue", &LogOptions::queue,
                  "the queue each logging thread owns, drained by the logging thread")
          .members(queue_table()),
      bind_option("crash_handler", &LogOptions::crash_handler,
                  "on SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT or std::terminate, write out "
                  "the queued records and a critical record, then die as before"),
  };
  return table;
}

LogOptions parse_log_options(const sdk::ConfigView& view) {
  LogOptions o = log_options_table().read(view);
  // The keys the table leaves unbound: values that need more than a type check.
  if (view.has("levels")) {
    const sdk::ConfigView levels = view.child("levels");
    for (const auto& [name, text] : view.get_string_map("levels"))
      o.levels.emplace_back(name, read_level(levels, name, text));
  }
  if (view.has("timezone")) {
    const std::string tz = view.get_string("timezone");
    auto offset = core::parse_utc_offset(tz);
    if (!offset)
      view.fail("timezone", "invalid UTC offset '" + tz + "' (use +09:00, -05:30, Z or local)");
    o.utc_offset = *offset;
  }
  // Compile here so that a bad regex is a config error at its position, not a crash later.
  const sdk::ConfigView pii = view.child("pii");
  for (const auto& name : o.pii.patterns) {
    const auto& known = builtin_pii_patterns();
    if (std::find(known.begin(), known.end(), name) == known.end())
      pii.fail("patterns", "unknown pii pattern '" + name +
                               "' (built-in: phone_kr, email, card, bearer_token)");
  }
  for (std::size_t i = 0; i < o.pii.custom.size(); ++i) {
    PiiOptions one;
    one.patterns.clear();
    one.custom = {o.pii.custom[i]};
    try {
      PiiMasker check(one);
    } catch (const std::invalid_argument& e) {
      pii.fail("custom", "entry " + std::to_string(i) + ": " + e.what());
    }
  }
  return o;
}

}  // namespace crosscut::logging
