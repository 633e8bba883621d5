#pragma once

namespace crosscut {

// The library's version (project(VERSION) of the build), e.g. "1.0.0".
const char* version() noexcept;

}  // namespace crosscut
