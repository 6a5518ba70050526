# Raspberry Pi 3/4/5 (and Zero 2 W) with a 64-bit OS: Debian's aarch64-linux-gnu gcc against
# the arm64 sysroot from `scripts/make-sysroot arm64`. Tests run under qemu-aarch64.
#
#   cmake --preset rpi-aarch64                         (or -DCMAKE_TOOLCHAIN_FILE=<this file>)
#   -DEDGEFL_RPI_MODEL=pi3|zero2w|pi4|pi5              board to emulate (default pi4)
#   -DEDGEFL_SYSROOT=<dir>                             another sysroot (default sysroots/arm64)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(EDGEFL_RPI_TRIPLE aarch64-linux-gnu)
set(EDGEFL_RPI_DEBIAN_ARCH arm64)
set(EDGEFL_RPI_QEMU qemu-aarch64)
set(EDGEFL_RPI_DEFAULT_MODEL pi4)
include(${CMAKE_CURRENT_LIST_DIR}/rpi-common.cmake)
