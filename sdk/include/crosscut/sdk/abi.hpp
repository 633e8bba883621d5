// The SDK's ABI identity: the version every plugin is built against and the compiler ABI tag.
// A plugin whose values differ from the host's is refused at load time with both values named.
#pragma once

// Brings in the standard library's configuration macros (_GLIBCXX_USE_CXX11_ABI) before
// they are tested below, whatever the including file included first.
#include <version>

#define CROSSCUT_SDK_ABI_VERSION 6

// Every SDK type lives in crosscut::sdk::v6 (an inline namespace), so code compiled against
// another ABI version cannot bind to these symbols by accident.
#define CROSSCUT_SDK_BEGIN_NAMESPACE \
  namespace crosscut::sdk {          \
  inline namespace v6 {
#define CROSSCUT_SDK_END_NAMESPACE \
  }                                \
  }

// Polymorphic SDK types keep default visibility even in plugins built with hidden visibility,
// so that their type_info is one object across libraries (exceptions and dynamic_cast match).
#define CROSSCUT_SDK_API __attribute__((visibility("default")))

#define CROSSCUT_SDK_STR2(x) #x
#define CROSSCUT_SDK_STR(x) CROSSCUT_SDK_STR2(x)

// Compiler family and major version plus the libstdc++ dual-ABI flag: std::string and
// std::list change layout with the latter, and SDK interfaces pass std types by reference.
#if defined(__clang__)
#define CROSSCUT_SDK_COMPILER_FAMILY "clang-" CROSSCUT_SDK_STR(__clang_major__)
#elif defined(__GNUC__)
#define CROSSCUT_SDK_COMPILER_FAMILY "gcc-" CROSSCUT_SDK_STR(__GNUC__)
#else
#define CROSSCUT_SDK_COMPILER_FAMILY "unknown"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define CROSSCUT_SDK_CXX_ABI "cxx11abi=" CROSSCUT_SDK_STR(_GLIBCXX_USE_CXX11_ABI)
#else
#define CROSSCUT_SDK_CXX_ABI "cxx11abi=none"
#endif

#define CROSSCUT_SDK_COMPILER_ABI CROSSCUT_SDK_COMPILER_FAMILY "/" CROSSCUT_SDK_CXX_ABI
