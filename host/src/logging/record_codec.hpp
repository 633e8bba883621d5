// The bytes a log call leaves in its thread's queue: the record's parts copied in binary
// (level, logger, timestamp, message, typed fields, the exception description and the
// context fields), nothing rendered. The calling thread sizes and writes them in place; the
// logging thread decodes them, then samples, repairs, masks and renders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "crosscut/sdk/log.hpp"
#include "crosscut/sdk/value.hpp"

namespace crosscut::logging {

enum class QueuedKind : std::uint8_t {
  call,  // the payload follows the header
  heap,  // too large for the ring: the header is followed by a std::string* holding it
};

// What follows the header of a heap record: the payload, owned by the record.
struct HeapPayload {
  std::string* body = nullptr;
};

// The fixed part at the start of every queued record.
struct QueuedHeader {
  std::int64_t timestamp = 0;    // clock ticks or epoch ns: the engine knows which
  const void* logger = nullptr;  // the engine's logger endpoint (lives as long as the engine)
  QueuedKind kind = QueuedKind::call;
  sdk::Level level = sdk::Level::info;
};

// The size write_payload() needs, or SIZE_MAX when a string is longer than 4 GiB.
std::size_t payload_size(std::string_view message, sdk::Fields fields, const sdk::Value* exception,
                         const sdk::Value::Object* context) noexcept;
// Writes exactly payload_size() bytes at `out` (no alignment needed). Never allocates.
void write_payload(std::byte* out, std::string_view message, sdk::Fields fields,
                   const sdk::Value* exception, const sdk::Value::Object* context) noexcept;

// The message of an encoded payload (the sampler's key); false for a payload too short.
bool payload_message(std::span<const std::byte> payload, std::string_view& message) noexcept;

struct DecodedRecord {
  std::int64_t timestamp_ns = 0;
  const void* logger = nullptr;
  sdk::Level level = sdk::Level::info;
  std::string message;
  sdk::Value extra;  // an object (possibly empty)
};

// Decodes a payload into `out`, reusing its storage. `extra` holds, in order: the call's
// fields, "exception" when present, "suppressed" when `suppressed` > 0, then the context
// fields whose keys are not taken. Strings are as the caller passed them (not yet repaired
// or masked). False for a payload write_payload() did not produce.
bool decode_payload(std::span<const std::byte> payload, std::uint64_t suppressed,
                    DecodedRecord& out);

}  // namespace crosscut::logging
