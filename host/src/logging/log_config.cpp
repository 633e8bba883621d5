#include "logging/log_config.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/timestamp.hpp"
#include "logging/pii_masker.hpp"

namespace crosscut::logging {
namespace {

using sdk::option;
using sdk::OptionSpec;
using sdk::OptionType;

const std::vector<std::string> kLevelChoices{"debug", "info",     "warning", "warn",
                                             "error", "critical", "off"};

sdk::Level read_level(const sdk::ConfigView& view, std::string_view key, const std::string& text) {
  if (auto l = sdk::parse_level(text)) return *l;
  view.fail(key, "unknown level '" + text + "' (use debug, info, warning, error, critical or off)");
}

}  // namespace

sdk::ConfigSchema logging_schema() {
  OptionSpec level = option("level", OptionType::string, "info",
                            "lowest level written: debug, info, warning, error, critical, off");
  level.choices = kLevelChoices;
  OptionSpec levels =
      option("levels", OptionType::string_map, "",
             "per-logger levels, e.g. {orchestrator: debug}; covers dotted children");
  OptionSpec timezone = option("timezone", OptionType::string, "+00:00",
                               "UTC offset of timestamps: +09:00, Z or local");
  OptionSpec sinks = option("sinks", OptionType::any, "",
                            "log sinks, each {type: console|rotating_file|..., options}; "
                            "none: JSON lines on stderr");
  OptionSpec pii = option("pii", OptionType::object, "",
                          "masking of personal data before records leave the process");
  pii.children = {
      option("enabled", OptionType::boolean, "true", "mask message and string fields"),
      option("patterns", OptionType::string_list, "[phone_kr, email, card, bearer_token]",
             "built-in patterns: phone_kr, email, card, bearer_token"),
      option("custom", OptionType::string_list, "[]", "extra RE2 regular expressions to mask"),
      option("keys", OptionType::string_list,
             "[api_key, apikey, api_secret, secret, password, passwd, token, access_token, "
             "authorization]",
             "field names (any depth, case-insensitive) whose values are masked"),
  };
  OptionSpec sampling = option("sampling", OptionType::object, "",
                               "per message template rate limit; the rest is counted and reported");
  OptionSpec per_second = option("per_message_per_second", OptionType::integer, "100",
                                 "records a second per template; 0 disables sampling");
  per_second.min = 0;
  sampling.children = {per_second};
  OptionSpec queue = option("queue", OptionType::object, "",
                            "the asynchronous queue between callers and the logging thread");
  OptionSpec size = option("size", OptionType::integer, "8192", "records the queue holds");
  size.min = 1;
  OptionSpec overflow =
      option("overflow", OptionType::string, "block",
             "when full: block the caller, or drop_oldest (counted and reported)");
  overflow.choices = {"block", "drop_oldest"};
  queue.children = {size, overflow};
  return {level, levels, timezone, sinks, pii, sampling, queue};
}

LogOptions parse_log_options(const sdk::ConfigView& view) {
  LogOptions o;
  if (view.has("level")) o.level = read_level(view, "level", view.get_string("level"));
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
  if (view.has("pii")) {
    const sdk::ConfigView pii = view.child("pii");
    o.pii.enabled = pii.get_bool("enabled", true);
    if (pii.has("patterns")) o.pii.patterns = pii.get_string_list("patterns");
    if (pii.has("custom")) o.pii.custom = pii.get_string_list("custom");
    if (pii.has("keys")) o.pii.keys = pii.get_string_list("keys");
    // Compile here so that a bad regex is a config error at its position, not a crash later.
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
  }
  if (view.has("sampling")) {
    const sdk::ConfigView sampling = view.child("sampling");
    const std::int64_t n = sampling.get_int("per_message_per_second", 100);
    if (n < 0 || n > UINT32_MAX)
      sampling.fail("per_message_per_second", "must be between 0 and 4294967295");
    o.per_message_per_second = static_cast<std::uint32_t>(n);
  }
  if (view.has("queue")) {
    const sdk::ConfigView queue = view.child("queue");
    const std::int64_t size = queue.get_int("size", 8192);
    if (size < 1 || size > (1 << 24)) queue.fail("size", "must be between 1 and 16777216");
    o.queue_size = static_cast<std::size_t>(size);
    const std::string overflow = queue.get_string("overflow", "block");
    if (overflow == "block")
      o.overflow = OverflowPolicy::block;
    else if (overflow == "drop_oldest")
      o.overflow = OverflowPolicy::drop_oldest;
    else
      queue.fail("overflow",
                 "unknown overflow policy '" + overflow + "' (use block or drop_oldest)");
  }
  return o;
}

}  // namespace crosscut::logging
