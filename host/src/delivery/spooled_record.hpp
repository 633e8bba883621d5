// A record as the spool stores it: every field of sdk::Record except its receipt (a receipt
// belongs to a producer of this process and cannot outlive it).
#pragma once

#include <string>
#include <string_view>

#include "crosscut/sdk/record_sink.hpp"

namespace crosscut::delivery {

// Appends the encoding of `record` to `out`.
void encode_record(const sdk::Record& record, std::string& out);

// Decodes what encode_record wrote; false when `bytes` is not exactly one encoded record
// (the frame checksum passed but the content is from an incompatible writer).
bool decode_record(std::string_view bytes, sdk::Record& record);

}  // namespace crosscut::delivery
