#pragma once

#include "crosscut/export.hpp"

namespace crosscut {

// The library's version (project(VERSION) of the build), e.g. "1.0.0".
CROSSCUT_API const char* version() noexcept;

}  // namespace crosscut
