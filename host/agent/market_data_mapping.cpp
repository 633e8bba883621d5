#include "agent/market_data_mapping.hpp"

#include <re2/re2.h>

namespace crosscut::agent {

sdk::OptionSpec input_format_option() {
  return {
      .key = "format",
      .type = sdk::OptionType::string,
      .default_value = "events",
      .description = "events: crosscut NDJSON events; market_data: raw exchange messages to count",
      .choices = {"events", "market_data"}};
}

sdk::OptionSpec market_data_option() {
  using sdk::OptionType;
  return {
      .key = "market_data",
      .type = OptionType::object,
      .description = "with format: market_data, how a message maps to a count",
      .children = {
          {.key = "target",
           .type = OptionType::object,
           .description = "the counter the messages count into",
           .children = {{.key = "exchange",
                         .type = OptionType::string,
                         .description = "e.g. upbit",
                         .required = true},
                        {.key = "region",
                         .type = OptionType::string,
                         .description = "e.g. korea",
                         .required = true},
                        {.key = "request_type",
                         .type = OptionType::string,
                         .description = "e.g. ticker",
                         .required = true}}},
          {.key = "symbol_field",
           .type = OptionType::string,
           .default_value = "code",
           .description = "top-level field holding the symbol (Upbit: code)"},
          {.key = "time_field",
           .type = OptionType::string,
           .default_value = "timestamp",
           .description = "top-level field holding the event time in epoch ms (Upbit: timestamp); "
                          "absent: the arrival minute"},
          {.key = "symbol_regex",
           .type = OptionType::string,
           .description =
               "RE2 with one capture group taking the symbol out of the field, e.g. ^KRW-(.+)$"},
      }};
}

MarketDataMapping::MarketDataMapping(const sdk::ConfigView& md) {
  sdk::ConfigView target = md.child("target");
  target_ = {target.get_string("exchange"), target.get_string("region"),
             target.get_string("request_type")};
  symbol_field_ = md.get_string("symbol_field");
  time_field_ = md.get_string("time_field");
  if (md.has("symbol_regex")) {
    RE2::Options options;
    options.set_log_errors(false);
    symbol_regex_ = std::make_unique<re2::RE2>(md.get_string("symbol_regex"), options);
    if (!symbol_regex_->ok())
      md.fail("symbol_regex", "invalid regular expression: " + symbol_regex_->error());
    if (symbol_regex_->NumberOfCapturingGroups() != 1)
      md.fail("symbol_regex", "needs exactly one capture group, e.g. ^KRW-(.+)$");
  }
}

MarketDataMapping::~MarketDataMapping() = default;
MarketDataMapping::MarketDataMapping(MarketDataMapping&&) noexcept = default;

std::optional<MarketDataMessage> MarketDataMapping::read(const rapidjson::Value& message,
                                                         std::string& problem) const {
  if (!message.IsObject()) {
    problem = "not a JSON object";
    return std::nullopt;
  }
  MarketDataMessage out;
  auto symbol = message.FindMember(symbol_field_.c_str());
  if (symbol != message.MemberEnd()) {
    if (!symbol->value.IsString()) {
      problem = "'" + symbol_field_ + "' is not a string";
      return std::nullopt;
    }
    std::string_view text(symbol->value.GetString(), symbol->value.GetStringLength());
    if (symbol_regex_) {
      re2::StringPiece captured;
      if (!RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *symbol_regex_,
                             &captured)) {
        problem = "'" + symbol_field_ + "' does not match symbol_regex";
        return std::nullopt;
      }
      out.symbol.assign(captured.data(), captured.size());
    } else {
      out.symbol.assign(text);
    }
  }
  auto time = message.FindMember(time_field_.c_str());
  if (time != message.MemberEnd()) {
    if (!time->value.IsInt64()) {
      problem = "'" + time_field_ + "' is not an integer (epoch milliseconds)";
      return std::nullopt;
    }
    out.time_ms = time->value.GetInt64();
  }
  return out;
}

}  // namespace crosscut::agent
