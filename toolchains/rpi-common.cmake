# Shared part of toolchains/rpi-*.cmake (set EDGEFL_RPI_TRIPLE, EDGEFL_RPI_DEBIAN_ARCH,
# EDGEFL_RPI_QEMU, EDGEFL_RPI_DEFAULT_MODEL and CMAKE_SYSTEM_PROCESSOR, then include this).
#
# The sysroot is a `dpkg -x` of Debian packages (scripts/make-sysroot): everything found by
# find_* comes from it, never from the host's /usr. The compiler keeps its own libc headers
# and crt files (Debian's cross packages, same glibc 2.36 as the sysroot). qemu runs with
# `-L <sysroot>` so the guest loader and libc both come from the sysroot: a loader from one
# place with a libc from another hangs the first pthread_create.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${EDGEFL_RPI_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${EDGEFL_RPI_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${EDGEFL_RPI_TRIPLE})

set(EDGEFL_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../sysroots/${EDGEFL_RPI_DEBIAN_ARCH}" CACHE PATH
    "edgefl: target sysroot made by scripts/make-sysroot ${EDGEFL_RPI_DEBIAN_ARCH}")
get_filename_component(_edgefl_sysroot "${EDGEFL_SYSROOT}" ABSOLUTE)
if(NOT EXISTS "${_edgefl_sysroot}/.edgefl-sysroot")
  message(FATAL_ERROR "No ${EDGEFL_RPI_DEBIAN_ARCH} sysroot at ${_edgefl_sysroot}: run "
          "`scripts/bootstrap --cross && scripts/make-sysroot ${EDGEFL_RPI_DEBIAN_ARCH}` first.")
endif()
# try_compile projects re-read this file without our cache: hand them the sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EDGEFL_SYSROOT)

set(CMAKE_FIND_ROOT_PATH "${_edgefl_sysroot}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)   # flatc and friends run on the build machine
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Libraries' own NEEDED entries (libzmq -> libsodium, krb5, ...) exist only in the sysroot.
set(_edgefl_rpath_link
    "-Wl,-rpath-link,${_edgefl_sysroot}/usr/lib/${EDGEFL_RPI_TRIPLE}:${_edgefl_sysroot}/lib/${EDGEFL_RPI_TRIPLE}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_edgefl_rpath_link}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_edgefl_rpath_link}")

# pkg-config (used by cppzmq's FindZeroMQ) sees only the sysroot's .pc files, re-rooted.
set(ENV{PKG_CONFIG_LIBDIR}
    "${_edgefl_sysroot}/usr/lib/${EDGEFL_RPI_TRIPLE}/pkgconfig:${_edgefl_sysroot}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${_edgefl_sysroot}")
set(ENV{PKG_CONFIG_PATH} "")

# The board picks the CPU qemu emulates: the oldest core the binaries must run on, so a
# stray instruction the board lacks fails here and not on the device.
set(EDGEFL_RPI_MODEL "${EDGEFL_RPI_DEFAULT_MODEL}" CACHE STRING
    "edgefl: Raspberry Pi model to emulate in tests (pi2 pi3 zero2w pi4 pi5)")
string(TOLOWER "${EDGEFL_RPI_MODEL}" _edgefl_model)
if(_edgefl_model MATCHES "^(pi1|pi0|pi0w|zero|zerow|armv6.*|arm1176.*|bcm2835)$")
  message(FATAL_ERROR "EDGEFL_RPI_MODEL=${EDGEFL_RPI_MODEL}: ARMv6 boards (Raspberry Pi 1, Zero, "
          "Zero W) are not supported. Debian's armhf toolchain and packages target ARMv7 and "
          "their binaries die with SIGILL on an ARM1176. Build on the board itself or with "
          "Raspberry Pi OS's own ARMv6 toolchain and sysroot; a Zero 2 W is ARMv8: use rpi-aarch64.")
elseif(NOT _edgefl_model MATCHES "^(pi2|pi3|zero2w|pi4|pi5)$")
  message(FATAL_ERROR "EDGEFL_RPI_MODEL=${EDGEFL_RPI_MODEL}: unknown; use pi2, pi3, zero2w, pi4 or pi5.")
elseif(EDGEFL_RPI_DEBIAN_ARCH STREQUAL "armhf")
  # Every Pi 2+ runs 32-bit code as ARMv7 + NEON, which is what the Cortex-A7 model is
  # (qemu-arm has no 32-bit A53/A72 model).
  set(_edgefl_cpu cortex-a7)
elseif(_edgefl_model STREQUAL "pi2")
  message(FATAL_ERROR "EDGEFL_RPI_MODEL=pi2: the Pi 2's Cortex-A7 is 32-bit only: use rpi-armhf.")
elseif(_edgefl_model MATCHES "^(pi3|zero2w)$")
  set(_edgefl_cpu cortex-a53)
elseif(_edgefl_model STREQUAL "pi4")
  set(_edgefl_cpu cortex-a72)
else()
  set(_edgefl_cpu cortex-a76)
endif()

# Tests run under qemu-user. Time-outs in ctest (EDGEFL_TIMEOUT_SCALE) and in edgefl-server and
# edgefl-device (EDGEFL_TIME_SCALE: their time_scale default, read in main) stretch by these.
set(EDGEFL_TIMEOUT_SCALE 10 CACHE STRING "edgefl: factor on every ctest TIMEOUT (emulation is slow)")
set(EDGEFL_QEMU_TIME_SCALE 20 CACHE STRING "edgefl: EDGEFL_TIME_SCALE for programs run under qemu")
find_program(EDGEFL_QEMU ${EDGEFL_RPI_QEMU} NO_CMAKE_FIND_ROOT_PATH)
if(EDGEFL_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR
      ${EDGEFL_QEMU} -cpu ${_edgefl_cpu} -L ${_edgefl_sysroot} -E EDGEFL_TIME_SCALE=${EDGEFL_QEMU_TIME_SCALE})
endif()
