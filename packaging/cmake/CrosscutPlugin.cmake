# crosscut_add_plugin(<name> SOURCES <src>... [LIBRARIES <lib>...] [DESTINATION <dir>]
#                     [COMPONENT <comp>])
#
# For plugins built outside the crosscut source tree, against an installed crosscut-dev.
# Builds the module libcrosscut-<name>.so (target <name>) against crosscut::sdk alone: C++20,
# hidden visibility (only the entry point and the SDK's interfaces are exported), and no
# undefined symbols left for the host to provide. `cmake --install` puts it into DESTINATION,
# by default crosscut_PLUGIN_DIR: the folder the installed host searches without configuration.
# A relative DESTINATION is relative to CMAKE_INSTALL_PREFIX, as usual.
function(crosscut_add_plugin name)
  cmake_parse_arguments(ARG "" "DESTINATION;COMPONENT" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT name MATCHES "^[a-z][a-z0-9_]*$")
    message(FATAL_ERROR "crosscut_add_plugin: plugin name '${name}' must be lower case letters, "
                        "digits and underscores (it is the name users write under plugins.load)")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "crosscut_add_plugin(${name}): SOURCES is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "crosscut_add_plugin(${name}): unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_DESTINATION)
    set(ARG_DESTINATION "${crosscut_PLUGIN_DIR}")
  endif()
  if(NOT ARG_COMPONENT)
    set(ARG_COMPONENT "${name}")
  endif()

  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE crosscut::sdk ${ARG_LIBRARIES})
  target_compile_features(${name} PRIVATE cxx_std_20)
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "crosscut-${name}"
    CXX_EXTENSIONS OFF
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  # The host resolves nothing for a plugin: a missing library shows up at link time, not as a
  # dlopen failure on the production machine. Sanitizer runtimes live in the host, so skip it
  # for sanitizer builds.
  if(NOT CMAKE_CXX_FLAGS MATCHES "-fsanitize")
    target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  endif()
  install(TARGETS ${name} LIBRARY DESTINATION "${ARG_DESTINATION}" COMPONENT "${ARG_COMPONENT}")
endfunction()
