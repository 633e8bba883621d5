// An exception reduced to data: demangled type, message, and the chain of
// std::nested_exception causes. The logger's exception overloads and the error dispatcher
// both describe exceptions this way.
#pragma once

#include <exception>

#include "crosscut/sdk/events.hpp"

namespace crosscut::core {

// Demangled dynamic type, what(), and the std::nested_exception causes (outermost first,
// flattened into `nested`, at most 16 deep). Never throws: if describing fails (out of
// memory), the result has type "unknown".
sdk::ExceptionInfo describe_exception(const std::exception& e) noexcept;
// As above; a non-std exception gets its demangled type (a thrown `const char*` or
// std::string also becomes the message). A null pointer yields type "unknown".
sdk::ExceptionInfo describe_exception(const std::exception_ptr& e) noexcept;

}  // namespace crosscut::core
