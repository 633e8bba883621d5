// CRC-32C (Castagnoli), the checksum of every spool frame: it catches torn writes and bit rot
// far better than a simple sum, and is what storage formats of this kind commonly use.
#pragma once

#include <cstdint>
#include <string_view>

namespace crosscut::delivery {

// The CRC-32C of `bytes`, continuing from `crc` (0 for a fresh checksum).
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0) noexcept;

}  // namespace crosscut::delivery
