# Helpers that keep every folder's CMakeLists.txt a few lines long.

# Warnings for all edgefl code (never for third-party headers, which come in as SYSTEM).
add_library(edgefl_warnings INTERFACE)
# -Wshadow=local is GCC's spelling; clang (fuzz builds) has -Wshadow-uncaptured-local.
target_compile_options(edgefl_warnings INTERFACE -Wall -Wextra -Wnon-virtual-dtor
                       $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
                       $<$<CXX_COMPILER_ID:Clang>:-Wshadow-uncaptured-local>
                       $<$<BOOL:${EDGEFL_WERROR}>:-Werror>)

# edgefl_add_library(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# A static library edgefl_<name> (alias edgefl::<name>) for one runtime/src/<name> folder.
# It sees the public headers in runtime/include and becomes part of edgefl::runtime.
function(edgefl_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(edgefl_${name} STATIC ${ARG_SOURCES})
  add_library(edgefl::${name} ALIAS edgefl_${name})
  target_include_directories(edgefl_${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/runtime/include> $<INSTALL_INTERFACE:include>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_features(edgefl_${name} PUBLIC cxx_std_20)
  set_target_properties(edgefl_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(edgefl_${name} PUBLIC ${ARG_DEPS} PRIVATE edgefl_warnings ${ARG_PRIVATE_DEPS})
  set_property(GLOBAL APPEND PROPERTY EDGEFL_RUNTIME_COMPONENTS edgefl_${name})
endfunction()

# Every ctest TIMEOUT is multiplied by this (the Raspberry Pi toolchains set 10 for qemu-user).
set(EDGEFL_TIMEOUT_SCALE 1 CACHE STRING "edgefl: factor on every ctest TIMEOUT")
if(NOT EDGEFL_TIMEOUT_SCALE MATCHES "^[1-9][0-9]*$")
  message(FATAL_ERROR "EDGEFL_TIMEOUT_SCALE=${EDGEFL_TIMEOUT_SCALE}: must be a whole number >= 1")
endif()

# edgefl_add_test(<name> SOURCES ... [DEPS ...] LABELS <label>... [TIMEOUT seconds] [FIXED_TIMEOUT])
# A doctest executable whose test cases are registered one by one with ctest, each with the
# labels and timeout given (every test needs a timeout: a hang must not eat CI's time).
# Cross builds run every test under the emulator: each also gets label `qemu` and its timeout
# times EDGEFL_TIMEOUT_SCALE, unless FIXED_TIMEOUT (for tests whose point is to fail fast).
function(edgefl_add_test name)
  cmake_parse_arguments(ARG "FIXED_TIMEOUT" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    message(FATAL_ERROR "edgefl_add_test(${name}): LABELS is required")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 60)
  endif()
  if(NOT ARG_FIXED_TIMEOUT)
    math(EXPR ARG_TIMEOUT "${ARG_TIMEOUT} * ${EDGEFL_TIMEOUT_SCALE}")
  endif()
  if(CMAKE_CROSSCOMPILING AND NOT "qemu" IN_LIST ARG_LABELS)
    list(APPEND ARG_LABELS qemu)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE edgefl_test_support ${ARG_DEPS} edgefl_warnings)
  doctest_discover_tests(${name}
    TEST_PREFIX "${name}:"
    TEST_LIST ${name}_TESTS
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  # Labels and timeout come from a second ctest include file, read after the discovered list:
  # doctest 2.4.9 mangles list-valued PROPERTIES (with two labels the TIMEOUT was dropped).
  set(properties_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_properties.cmake)
  file(WRITE ${properties_file}
    "if(${name}_TESTS)\n"
    "  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${ARG_LABELS}\" TIMEOUT ${ARG_TIMEOUT})\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${properties_file})
endfunction()

# Adds every direct subfolder of the current folder that has a CMakeLists.txt, in name order,
# so a new module's tests or benchmarks need no edit to a shared file.
function(edgefl_add_subfolders)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
       ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child IN LISTS children)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
