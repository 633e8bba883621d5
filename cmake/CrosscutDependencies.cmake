# Third-party dependencies, all from Debian 12 packages (see .ci/install-deps).
find_package(PkgConfig REQUIRED)
find_package(Boost 1.74 REQUIRED)                 # Boost.DLL, header-only with BOOST_DLL_USE_STD_FS
find_package(yaml-cpp REQUIRED)                   # target: yaml-cpp
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(RapidJSON REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)  # the admin endpoint
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)   # sd_notify for `crosscut run`

if(NOT TARGET RapidJSON::RapidJSON)
  add_library(RapidJSON::RapidJSON INTERFACE IMPORTED)
  set_target_properties(RapidJSON::RapidJSON PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${RapidJSON_INCLUDE_DIRS}${RAPIDJSON_INCLUDE_DIRS}")
endif()

if(CROSSCUT_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(CROSSCUT_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
