# Compiler settings shared by every target of ours: warnings (errors with CROSSCUT_WERROR, which
# CI sets; a user's or a distribution's build with a newer compiler must not fail on a new
# warning), sanitizers.
option(CROSSCUT_WERROR "Treat compiler warnings as errors (CI)" OFF)

function(crosscut_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  # g++ 12 at -O3 reports false -Wrestrict overlaps inside libstdc++'s std::string code
  # (GCC bug 105329); Release builds leave that one warning out.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE $<$<CONFIG:Release>:-Wno-restrict>)
  endif()
  if(CROSSCUT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(CROSSCUT_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    add_compile_options("-fsanitize-ignorelist=${CMAKE_CURRENT_LIST_DIR}/sanitizer-ignorelist.txt")
  endif()
  add_link_options(-fsanitize=address,undefined)
elseif(CROSSCUT_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT CROSSCUT_SANITIZE STREQUAL "off")
  message(FATAL_ERROR "CROSSCUT_SANITIZE must be address, thread or off (got '${CROSSCUT_SANITIZE}')")
endif()

# libFuzzer targets (tests/fuzz/). Every target of ours is compiled with coverage
# instrumentation so that the fuzzer sees the library's branches; only the fuzz programs link
# libFuzzer itself (-fsanitize=fuzzer, in tests/fuzz/). The other programs get the coverage
# callbacks' no-op definitions from the ASan runtime, hence the sanitizer requirement.
option(CROSSCUT_FUZZ "Build the libFuzzer targets of tests/fuzz (clang, CROSSCUT_SANITIZE=address)" OFF)
if(CROSSCUT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CROSSCUT_FUZZ=ON needs clang (libFuzzer is part of clang), but the C++ "
                        "compiler is ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER}: configure a "
                        "fresh build directory with CXX=clang++")
  endif()
  if(NOT CROSSCUT_SANITIZE STREQUAL "address")
    message(FATAL_ERROR "CROSSCUT_FUZZ=ON needs -DCROSSCUT_SANITIZE=address (got '${CROSSCUT_SANITIZE}')")
  endif()
  if(NOT CROSSCUT_BUILD_TESTS)
    message(FATAL_ERROR "CROSSCUT_FUZZ=ON needs CROSSCUT_BUILD_TESTS=ON (the fuzz targets are part of tests/)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
