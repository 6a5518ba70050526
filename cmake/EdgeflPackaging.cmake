# CPack: the edgefl-device Debian package (binary, systemd unit, /etc/edgefl/device.toml) for
# the architecture being built. In a build directory: `cpack` -> edgefl-device_<ver>_<arch>.deb
#
# Its dependencies are the Debian bookworm packages of the shared libraries edgefl-device
# links (packaging/check-deb compares them with the binary's NEEDED entries).
if(DEFINED EDGEFL_RPI_DEBIAN_ARCH)
  set(edgefl_deb_arch ${EDGEFL_RPI_DEBIAN_ARCH})   # from toolchains/rpi-*.cmake
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$")
  set(edgefl_deb_arch amd64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(edgefl_deb_arch arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(edgefl_deb_arch armhf)
else()
  set(edgefl_deb_arch ${CMAKE_SYSTEM_PROCESSOR})
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME edgefl-device)
set(CPACK_PACKAGE_VENDOR edgefl)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "edgefl federated learning client for small Linux boards")
set(CPACK_PACKAGE_CONTACT "edgefl maintainers <edgefl@localhost>")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)   # with the toolchain's strip (CMAKE_STRIP)
# Only the service goes into the .deb; headers and static libraries are for developers.
set(CPACK_COMPONENTS_ALL device)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${edgefl_deb_arch})
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "Trains a model locally with XNNPACK kernels and sends FlatBuffers-encoded updates over\nZeroMQ to an edgefl-server. Runs as the systemd service edgefl-device, configured in\n/etc/edgefl/device.toml.")
set(edgefl_deb_depends "libc6 (>= 2.36)" "libstdc++6 (>= 12)" "libgcc-s1" "libzmq5 (>= 4.3.4)"
    "zlib1g (>= 1:1.2.13)")
if(EDGEFL_WITH_XNNPACK)
  list(APPEND edgefl_deb_depends "libxnnpack0" "libpthreadpool0")
endif()
list(JOIN edgefl_deb_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "dataset-fashion-mnist")
# /etc/edgefl/device.toml is the administrator's file: dpkg keeps their edits on upgrade.
configure_file(${PROJECT_SOURCE_DIR}/packaging/conffiles ${PROJECT_BINARY_DIR}/packaging/conffiles COPYONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/packaging/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/postinst
    ${PROJECT_SOURCE_DIR}/packaging/prerm
    ${PROJECT_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
