# crosscut_add_plugin(<name> SOURCES <src>... [LIBRARIES <lib>...])
#
# Builds plugins/<name> as the module libcrosscut-<name>.so in the build's plugin folder and
# installs it into the plugin folder of the component `crosscut` (or COMPONENT <comp>).
# The sources are compiled once, into an object library `crosscut_plugin_<name>_objects`
# that the plugin's tests link directly.
function(crosscut_add_plugin name)
  cmake_parse_arguments(ARG "" "COMPONENT" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_COMPONENT)
    set(ARG_COMPONENT crosscut)
  endif()
  set(objects crosscut_plugin_${name}_objects)
  add_library(${objects} OBJECT ${ARG_SOURCES})
  target_link_libraries(${objects} PUBLIC crosscut::sdk ${ARG_LIBRARIES})
  set_target_properties(${objects} PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  # Tests and benchmarks use a plugin's classes directly: #include "<name>/<file>.hpp".
  target_include_directories(${objects} INTERFACE "${PROJECT_SOURCE_DIR}/plugins")
  crosscut_warnings(${objects})

  add_library(crosscut_plugin_${name} MODULE $<TARGET_OBJECTS:${objects}>)
  target_link_libraries(crosscut_plugin_${name} PRIVATE ${objects})
  set_target_properties(crosscut_plugin_${name} PROPERTIES
    OUTPUT_NAME "crosscut-${name}"
    LIBRARY_OUTPUT_DIRECTORY "${CROSSCUT_PLUGIN_BUILD_DIR}")
  if(CROSSCUT_SANITIZE STREQUAL "off")
    # Catch a missing link dependency at build time (sanitizer runtimes live in the host).
    target_link_options(crosscut_plugin_${name} PRIVATE -Wl,--no-undefined)
  endif()
  install(TARGETS crosscut_plugin_${name}
          LIBRARY DESTINATION "${CROSSCUT_PLUGIN_INSTALL_DIR}" COMPONENT ${ARG_COMPONENT})
endfunction()
