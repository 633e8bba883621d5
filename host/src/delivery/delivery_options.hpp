// The keys the host reads on every entry of `sinks:` (beside the plugin's own): where records
// wait until the sink confirms them, and what happens when that place is full.
#pragma once

#include <string>

#include "crosscut/sdk/options.hpp"
#include "crosscut/sdk/overflow.hpp"
#include "delivery/spool.hpp"

namespace crosscut::delivery {

struct SpoolOptions {
  std::string path;  // empty: no spool, records wait in memory (the `buffer` below)
  sdk::ByteSize max_size{256ULL << 20};
  FsyncPolicy fsync = FsyncPolicy::batch;
  sdk::OverflowPolicy on_full = sdk::OverflowPolicy::block;
};

struct BufferOptions {
  sdk::ByteSize max_size{64ULL << 20};
  sdk::OverflowPolicy on_full = sdk::OverflowPolicy::block;
};

struct DeliveryOptions {
  SpoolOptions spool;
  BufferOptions memory_buffer;
};

// `spool` and `buffer`, as the host validates them on every sink entry.
const sdk::OptionTable<DeliveryOptions>& delivery_options_table();

// The host's keys of a sink entry, for the component builder to leave to the host.
inline constexpr const char* kDeliveryKeys[] = {"spool", "memory_buffer"};

}  // namespace crosscut::delivery
