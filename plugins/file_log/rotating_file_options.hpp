// The options of log sink `rotating_file`, declared once: the struct (defaults) and its table.
#pragma once

#include <cstdint>
#include <string>

#include "crosscut/sdk/options.hpp"

namespace crosscut::plugins::file_log {

struct RotatingFileOptions {
  std::string path;
  sdk::ByteSize max_size{100ull << 20};  // 0 (only when built directly): never rotate
  std::uint32_t max_files = 5;           // rotated files kept besides the active one
};

const sdk::OptionTable<RotatingFileOptions>& rotating_file_options_table();

}  // namespace crosscut::plugins::file_log
