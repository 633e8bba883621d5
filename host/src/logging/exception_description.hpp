// An exception reduced to data: demangled type, message, and the chain of
// std::nested_exception causes.
#pragma once

#include <exception>

#include "crosscut/sdk/events.hpp"
#include "crosscut/sdk/value.hpp"

namespace crosscut::logging {

// Never throws; a non-std exception is described as type "unknown".
sdk::ExceptionInfo describe_exception(const std::exception& e) noexcept;
sdk::ExceptionInfo describe_exception(const std::exception_ptr& e) noexcept;

// {"type":…,"message":…,"nested":[…]} — the shape of `extra.exception` in a record.
sdk::Value exception_value(const sdk::ExceptionInfo& info);

}  // namespace crosscut::logging
