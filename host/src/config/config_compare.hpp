// Whether two configuration trees say the same thing, for a reload deciding what to keep.
#pragma once

#include "crosscut/sdk/config.hpp"

namespace crosscut::config {

// Same kinds, scalars (quoting included), sequence items in order and map entries in any
// order. Where a value was written, and whether it came from a schema default, do not count:
// `retries: 3` written out equals the default 3.
bool same_config(const sdk::ConfigNode& a, const sdk::ConfigNode& b);

}  // namespace crosscut::config
