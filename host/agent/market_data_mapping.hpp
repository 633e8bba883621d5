// Inputs with `format: market_data` carry raw exchange messages (e.g. Upbit tickers), one
// JSON object a line, instead of crosscut events: each line is one message to count, its
// symbol and event time read from configured fields.
//
//   inputs:
//     - type: file
//       path: upbit-ticker.ndjson
//       format: market_data
//       market_data: {target: {exchange: upbit, region: korea, request_type: ticker},
//                     symbol_field: code, time_field: timestamp, symbol_regex: "^KRW-(.+)$"}
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <optional>
#include <string>

#include "crosscut/sdk/config.hpp"
#include "crosscut/sdk/events.hpp"

namespace re2 {
class RE2;
}

namespace crosscut::agent {

// The host's own keys on an input item (besides `type`): `format` and `market_data`.
sdk::OptionSpec input_format_option();
sdk::OptionSpec market_data_option();

struct MarketDataMessage {
  std::string symbol;                   // "" when the message has none (counted in the total)
  std::optional<std::int64_t> time_ms;  // event time, when the message has one
};

// Thread-safe after construction (read-only).
class MarketDataMapping {
 public:
  // Reads the `market_data` object (already checked against market_data_option()).
  explicit MarketDataMapping(const sdk::ConfigView& market_data);
  ~MarketDataMapping();
  MarketDataMapping(MarketDataMapping&&) noexcept;

  const sdk::Target& target() const { return target_; }
  // The message's symbol and time; nullopt with `problem` set when the line cannot be used.
  std::optional<MarketDataMessage> read(const rapidjson::Value& message,
                                        std::string& problem) const;

 private:
  sdk::Target target_;
  std::string symbol_field_;
  std::string time_field_;
  std::unique_ptr<re2::RE2> symbol_regex_;
};

}  // namespace crosscut::agent
