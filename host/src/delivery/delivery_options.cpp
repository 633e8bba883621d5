#include "delivery/delivery_options.hpp"

namespace crosscut::delivery {
namespace {

// The two full policies a store of records can follow: never `drop_newest`, which would refuse
// what a producer was just promised a place for.
template <class S>
sdk::OptionBinding<S, sdk::OverflowPolicy> on_full_row(sdk::OverflowPolicy S::*member,
                                                       std::string_view what) {
  return sdk::bind_option<S, sdk::OverflowPolicy>(
             "on_full", member,
             std::string("when the ") + std::string(what) +
                 " is full: block (publishers wait for space) or drop_oldest (counted, logged "
                 "once per episode)")
      .choices({{"block", sdk::OverflowPolicy::block},
                {"drop_oldest", sdk::OverflowPolicy::drop_oldest}});
}

const sdk::OptionTable<SpoolOptions>& spool_table() {
  using sdk::bind_option;
  static const sdk::OptionTable<SpoolOptions> table{
      bind_option("path", &SpoolOptions::path,
                  "directory of this sink's disk spool (one process at a time); unset: records "
                  "wait in memory"),
      bind_option("max_size", &SpoolOptions::max_size, "largest size of the spool on disk")
          .min(1 << 20),
      bind_option("fsync", &SpoolOptions::fsync,
                  "always (each record), batch (before records go to the sink) or never")
          .choices({{"always", FsyncPolicy::always},
                    {"batch", FsyncPolicy::batch},
                    {"never", FsyncPolicy::never}}),
      on_full_row(&SpoolOptions::on_full, "spool"),
  };
  return table;
}

const sdk::OptionTable<BufferOptions>& buffer_table() {
  using sdk::bind_option;
  static const sdk::OptionTable<BufferOptions> table{
      bind_option("max_size", &BufferOptions::max_size,
                  "memory for records not yet delivered, when there is no spool")
          .min(64 * 1024),
      on_full_row(&BufferOptions::on_full, "buffer"),
  };
  return table;
}

}  // namespace

const sdk::OptionTable<DeliveryOptions>& delivery_options_table() {
  using sdk::bind_option;
  static const sdk::OptionTable<DeliveryOptions> table{
      bind_option("spool", &DeliveryOptions::spool,
                  "keep undelivered records on disk: they survive restarts and crashes")
          .members(spool_table()),
      bind_option("memory_buffer", &DeliveryOptions::memory_buffer,
                  "keep undelivered records in memory (used when there is no spool)")
          .members(buffer_table()),
  };
  return table;
}

}  // namespace crosscut::delivery
