# CPack: five DEB and RPM packages from the install components.
#   crosscut        component crosscut: host, libcrosscut, plugins without heavy dependencies,
#                   /etc/crosscut/crosscut.yaml (a conffile), the systemd unit, documentation
#   crosscut-redis  component redis:    the redis_breaker plugin (hiredis)
#   crosscut-kafka  component kafka:    the kafka and record_log plugins (librdkafka)
#   crosscut-dev    component dev:      SDK and runtime headers, CMake package, pkg-config file,
#                   the example plugin's sources
#   python3-crosscut component python:  the Python client (architecture-independent)
# Configure with -DCMAKE_INSTALL_PREFIX=/usr; for RPM also -DCMAKE_INSTALL_LIBDIR=lib64.
# Library dependencies come from dpkg-shlibdeps (DEB) and rpm's automatic requirements (RPM);
# the add-on packages require crosscut of the same version.
set(CPACK_PACKAGE_NAME crosscut)
set(CPACK_PACKAGE_VENDOR "crosscut")
set(CPACK_PACKAGE_CONTACT "${CROSSCUT_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
# Empty on purpose: CPackDeb would prepend a package-wide summary to every component's own.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB RPM)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_COMPONENTS_ALL crosscut redis kafka dev python)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_RPM_COMPONENT_INSTALL ON)

set(dir "${CMAKE_CURRENT_SOURCE_DIR}")
# Per package: a one-line summary, then the long description (lines of at most 79 columns).
set(crosscut_summary_CROSSCUT "Cross-cutting runtime for real-time market-data pipelines")
set(crosscut_body_CROSSCUT
"crosscut gives market-data collectors structured JSON logging, an event bus,
error routing with exception rules, circuit breakers, per-minute message counts
and a profiler, loaded as plugins and wired from one YAML file. This package
holds the crosscut command and agent (crosscut.service), libcrosscut, the
console, file, stdio and memory-breaker plugins, and the configuration
/etc/crosscut/crosscut.yaml.")
set(crosscut_summary_REDIS "Redis circuit-breaker backend for crosscut")
set(crosscut_body_REDIS
"The redis_breaker plugin keeps crosscut circuit-breaker state in Redis (or
Redis Cluster), so that every instance of a service shares one breaker per
resource.")
set(crosscut_summary_KAFKA "Kafka record sink and input for crosscut")
set(crosscut_body_KAFKA
"The kafka plugin publishes crosscut errors, metric batches and logs to Kafka
and consumes market-data topics in agent mode; record_log ships log lines
through a record sink such as Kafka.")
set(crosscut_summary_DEV "crosscut plugin SDK and development files")
set(crosscut_body_DEV
"Headers of the crosscut plugin SDK and of libcrosscut, the CMake package
(find_package(crosscut): crosscut::sdk, crosscut::crosscut and
crosscut_add_plugin()), the pkg-config file crosscut-sdk.pc and the sources of
an example plugin.")
set(crosscut_summary_PYTHON "Python client of the crosscut agent")
set(crosscut_body_PYTHON
"The crosscut Python package (standard library only): a synchronous and an
asyncio client of the crosscut agent's Unix socket, to ask its circuit
breakers before each call, count messages, dispatch errors and log through a
logging.Handler, with bounded buffering and reconnection.")
foreach(component CROSSCUT REDIS KAFKA DEV PYTHON)
  set(CPACK_COMPONENT_${component}_DESCRIPTION
      "${crosscut_summary_${component}}\n${crosscut_body_${component}}")
  set(CPACK_RPM_${component}_PACKAGE_SUMMARY "${crosscut_summary_${component}}")
  set(CPACK_RPM_${component}_PACKAGE_DESCRIPTION "${crosscut_body_${component}}")
endforeach()
foreach(component REDIS KAFKA DEV)
  set(CPACK_COMPONENT_${component}_DEPENDS crosscut)
endforeach()

# --- DEB ----------------------------------------------------------------------------------
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_CROSSCUT_PACKAGE_NAME crosscut)
set(CPACK_DEBIAN_REDIS_PACKAGE_NAME crosscut-redis)
set(CPACK_DEBIAN_KAFKA_PACKAGE_NAME crosscut-kafka)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME crosscut-dev)
set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-crosscut)
set(CPACK_DEBIAN_PYTHON_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
# Talks to the agent over its socket, which may run elsewhere (a container's sidecar): a
# recommendation, not a dependency.
set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "python3 (>= 3.9)")
set(CPACK_DEBIAN_PYTHON_PACKAGE_RECOMMENDS "crosscut")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The postinst creates the service account with adduser.
set(CPACK_DEBIAN_CROSSCUT_PACKAGE_DEPENDS "adduser")
# libcrosscut's shlibs entry is written out rather than generated: CPackDeb's generator would
# also look at every plugin (modules without a SONAME) and warn about each.
configure_file(debian/conffiles.in debian/conffiles @ONLY)
configure_file(debian/shlibs.in debian/shlibs @ONLY)
set(CPACK_DEBIAN_CROSSCUT_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles;${CMAKE_CURRENT_BINARY_DIR}/debian/shlibs;${dir}/debian/postinst;${dir}/debian/prerm;${dir}/debian/postrm;${dir}/debian/triggers")

# --- RPM ----------------------------------------------------------------------------------
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "Proprietary" CACHE STRING "License tag of the RPM packages")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_DEV_PACKAGE_GROUP "Development/Libraries")
# The plugin folder and the configuration path are compiled in.
set(CPACK_PACKAGE_RELOCATABLE OFF)
set(CPACK_RPM_PACKAGE_RELOCATABLE OFF)
set(CPACK_RPM_CROSSCUT_PACKAGE_NAME crosscut)
set(CPACK_RPM_REDIS_PACKAGE_NAME crosscut-redis)
set(CPACK_RPM_KAFKA_PACKAGE_NAME crosscut-kafka)
set(CPACK_RPM_DEV_PACKAGE_NAME crosscut-dev)
set(CPACK_RPM_PYTHON_PACKAGE_NAME python3-crosscut)
set(CPACK_RPM_PYTHON_PACKAGE_ARCHITECTURE noarch)
set(CPACK_RPM_PYTHON_PACKAGE_GROUP "Development/Libraries")
set(CPACK_RPM_PYTHON_PACKAGE_REQUIRES "python3 >= 3.9")
set(CPACK_RPM_PYTHON_PACKAGE_SUGGESTS "crosscut")
# CPackRPM ignores component dependencies: name them.
foreach(component REDIS KAFKA DEV)
  set(CPACK_RPM_${component}_PACKAGE_REQUIRES "crosscut = ${PROJECT_VERSION}")
endforeach()
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_PACKAGE_AUTOPROV OFF)
set(CPACK_RPM_CROSSCUT_USER_FILELIST "%config(noreplace) ${CROSSCUT_CONFIG_FILE}")
set(CPACK_RPM_CROSSCUT_PACKAGE_REQUIRES_PRE "shadow-utils")
set(CPACK_RPM_CROSSCUT_PRE_INSTALL_SCRIPT_FILE "${dir}/rpm/pre-install.sh")
set(CPACK_RPM_CROSSCUT_POST_INSTALL_SCRIPT_FILE "${dir}/rpm/post-install.sh")
set(CPACK_RPM_CROSSCUT_PRE_UNINSTALL_SCRIPT_FILE "${dir}/rpm/pre-uninstall.sh")
set(CPACK_RPM_CROSSCUT_POST_UNINSTALL_SCRIPT_FILE "${dir}/rpm/post-uninstall.sh")
# Folders owned by the system (filesystem, systemd, cmake, pkgconf, python3), not by crosscut.
set(crosscut_python_site "${CMAKE_INSTALL_PREFIX}/${CROSSCUT_PYTHON_SITE_DIR}")
get_filename_component(crosscut_python_lib "${crosscut_python_site}" DIRECTORY)
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/lib/systemd /usr/lib/systemd/system /usr/share/lintian /usr/share/lintian/overrides
    /usr/share/man /usr/share/man/man1
    "${CMAKE_INSTALL_FULL_LIBDIR}/cmake" "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig"
    "${crosscut_python_lib}" "${crosscut_python_site}")

include(CPack)
