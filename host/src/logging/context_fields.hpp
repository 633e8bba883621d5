// The calling thread's context fields without taking a reference: what a log call copies
// into its queue. Kept in step by ContextScope and ContextRestore; valid until the thread's
// current scope changes. Initial-exec: a plain offset from the thread pointer.
#pragma once

#include "crosscut/sdk/value.hpp"

namespace crosscut::logging {

extern thread_local constinit const sdk::Value::Object* t_context_fields
    __attribute__((tls_model("initial-exec")));

}  // namespace crosscut::logging
