# Install rules and the exported CMake package `edgefl` (find_package(edgefl)), plus CPack's
# Debian package of edgefl-device. Included last by the top-level CMakeLists.txt.
#
# Components:
#   device       edgefl-device, its systemd unit and the example /etc/edgefl/device.toml
#                (what the .deb holds; the /etc and systemd files only via CPack or
#                `cmake --install <dir> --component device`, never by a plain install)
#   development  the static runtime and device libraries, their public headers and the
#                package files, for applications that embed the device agent:
#
#     find_package(edgefl REQUIRED)
#     target_link_libraries(my_app PRIVATE edgefl::device)   # agent + runtime
#     #include <edgefl/device/agent.hpp>
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(EDGEFL_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/edgefl)

# --- development: libraries, headers, package files --------------------------------------
get_property(edgefl_components GLOBAL PROPERTY EDGEFL_RUNTIME_COMPONENTS)
set(edgefl_exported ${edgefl_components} edgefl_runtime edgefl_warnings edgefl_schemas)
if(TARGET edgefl_xnnpack)
  list(APPEND edgefl_exported edgefl_xnnpack)
endif()
if(TARGET edgefl_device)
  list(APPEND edgefl_exported edgefl_upstream edgefl_device)
endif()
# Exported as edgefl::<name>, the same names the build tree's aliases use.
foreach(target IN LISTS edgefl_exported)
  string(REGEX REPLACE "^edgefl_" "" export_name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
endforeach()

install(TARGETS ${edgefl_exported} EXPORT edgefl-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/edgefl
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)
if(TARGET edgefl_device)
  # The agent's headers include each other with quotes, so they stay together.
  file(GLOB edgefl_device_headers ${PROJECT_SOURCE_DIR}/device/src/*.hpp)
  install(FILES ${edgefl_device_headers}
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/edgefl/device COMPONENT development)
endif()
install(EXPORT edgefl-targets NAMESPACE edgefl:: DESTINATION ${EDGEFL_INSTALL_CMAKEDIR}
  COMPONENT development)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/edgefl-config.cmake.in
  ${PROJECT_BINARY_DIR}/edgefl-config.cmake
  INSTALL_DESTINATION ${EDGEFL_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/edgefl-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/edgefl-config.cmake ${PROJECT_BINARY_DIR}/edgefl-config-version.cmake
  DESTINATION ${EDGEFL_INSTALL_CMAKEDIR} COMPONENT development)

# --- device: the service -----------------------------------------------------------------
if(TARGET edgefl-device)
  # Absolute: the unit and the configuration live where systemd and the unit look for them.
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/edgefl-device.service
    DESTINATION /lib/systemd/system COMPONENT device EXCLUDE_FROM_ALL)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/device.toml
    DESTINATION /etc/edgefl COMPONENT device EXCLUDE_FROM_ALL)
  include(EdgeflPackaging)
endif()
