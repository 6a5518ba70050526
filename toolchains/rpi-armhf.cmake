# Raspberry Pi 2/3/4 with a 32-bit OS (ARMv7-A hard-float): Debian's arm-linux-gnueabihf gcc
# against the armhf sysroot from `scripts/make-sysroot armhf`. Tests run under qemu-arm.
# ARMv6 boards (Pi 1, Zero, Zero W) are not supported: Debian's armhf is ARMv7.
#
#   cmake --preset rpi-armhf                           (or -DCMAKE_TOOLCHAIN_FILE=<this file>)
#   -DEDGEFL_RPI_MODEL=pi2|pi3|zero2w|pi4|pi5          target board (default pi2; all run as Cortex-A7)
#   -DEDGEFL_SYSROOT=<dir>                             another sysroot (default sysroots/armhf)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(EDGEFL_RPI_TRIPLE arm-linux-gnueabihf)
set(EDGEFL_RPI_DEBIAN_ARCH armhf)
set(EDGEFL_RPI_QEMU qemu-arm)
set(EDGEFL_RPI_DEFAULT_MODEL pi2)
# gcc notes an ABI change from GCC 7.1 in std::vector's argument passing; it concerns code
# built with GCC < 7, which never links with ours.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
include(${CMAKE_CURRENT_LIST_DIR}/rpi-common.cmake)
