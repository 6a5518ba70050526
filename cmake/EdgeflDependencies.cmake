# Every third-party dependency is a Debian package (scripts/bootstrap installs them).
# Each is found once here and exposed as an imported target.

find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(cppzmq REQUIRED)          # brings libzmq as target libzmq
find_package(FlatBuffers REQUIRED)

# flatc must be the build machine's, also when cross-compiling.
find_program(EDGEFL_FLATC flatc REQUIRED NO_CMAKE_FIND_ROOT_PATH)

if(EDGEFL_WITH_XNNPACK)
  find_path(XNNPACK_INCLUDE_DIR xnnpack.h REQUIRED)
  find_library(XNNPACK_LIBRARY XNNPACK REQUIRED)
  find_library(PTHREADPOOL_LIBRARY pthreadpool REQUIRED)
  add_library(edgefl_xnnpack INTERFACE)
  # Only edgefl's own sources include xnnpack.h: installed consumers need no include path.
  target_include_directories(edgefl_xnnpack SYSTEM INTERFACE $<BUILD_INTERFACE:${XNNPACK_INCLUDE_DIR}>)
  target_link_libraries(edgefl_xnnpack INTERFACE ${XNNPACK_LIBRARY} ${PTHREADPOOL_LIBRARY} Threads::Threads)
  target_compile_definitions(edgefl_xnnpack INTERFACE EDGEFL_HAVE_XNNPACK=1)
endif()

if(EDGEFL_BUILD_TESTS)
  find_package(doctest REQUIRED)
  include(doctest)
endif()

find_package(CLI11 REQUIRED)

# ONNX import and export (server/onnx): Debian's libonnx-dev over libprotobuf-dev, for the
# server and workstation tools only. Protobuf first: ONNX's CMake config names
# protobuf::libprotobuf without finding it.
if(EDGEFL_BUILD_SERVER)
  find_package(Protobuf REQUIRED)
  find_package(ONNX REQUIRED)
endif()
