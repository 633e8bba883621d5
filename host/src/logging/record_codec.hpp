// The bytes a log call puts on the queue. spdlog copies a message payload by value, so a
// record travels as a compact binary encoding rather than as pointers (a record dropped by
// the overflow policy then leaks nothing). Encoding happens on the calling thread, decoding
// on the logging thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/value.hpp"
#include "logging/record_scrubber.hpp"

namespace crosscut::logging {

enum class RecordKind : std::uint8_t {
  record,   // an ordinary log record
  barrier,  // flush sinks, then mark barrier `aux` done
  reopen,   // reopen the sinks' files
};

struct RecordHeader {
  RecordKind kind = RecordKind::record;
  const void* logger = nullptr;  // the engine's logger endpoint (lives as long as the engine)
  std::int64_t timestamp_ns = 0;
  sdk::Level level = sdk::Level::info;
  std::uint64_t aux = 0;  // barrier sequence number
};

// Appends a record to `out`. Fields are written in call order, then `exception` and
// `suppressed` when present, then the context fields whose keys the call did not use.
// `json` is the record already rendered (see JsonLineFormatter::format_call). With a
// scrubber, strings are stored repaired and masked (and values of sensitive keys masked), so
// the decoded parts need no further work.
void encode_record(std::string& out, const RecordHeader& header, std::string_view message,
                   sdk::Fields fields, const sdk::Value* exception, std::uint64_t suppressed,
                   const sdk::Value::Object* context, std::string_view json = {},
                   const RecordScrubber* scrubber = nullptr);

struct DecodedRecord {
  RecordHeader header;
  std::string message;
  sdk::Value extra;  // an object (possibly empty)
  std::string json;  // the rendered line
};

// False for a malformed payload (never produced by encode_record).
bool decode_record(std::string_view in, DecodedRecord& out);

}  // namespace crosscut::logging
