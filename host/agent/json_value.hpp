// Converting parsed JSON (RapidJSON) into sdk::Value, for context and log fields that arrive
// as JSON from other processes.
#pragma once

#include <rapidjson/document.h>

#include "crosscut/sdk/value.hpp"

namespace crosscut::agent {

// Deep copy. Nesting deeper than `max_depth` is cut (the deepest values become null), so
// hostile input cannot exhaust the stack.
sdk::Value to_value(const rapidjson::Value& json, int max_depth = 64);

}  // namespace crosscut::agent
