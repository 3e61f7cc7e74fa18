# ec_add_library / ec_add_executable / ec_add_test / ec_add_fuzzer: the only way targets are made,
# so warnings, sanitizers and the include root are the same everywhere.

# Warnings as errors on our code only (third-party headers are SYSTEM includes).
add_library(ec_warnings INTERFACE)
target_compile_options(ec_warnings INTERFACE -Wall -Wextra -Werror -Wno-unused-parameter
  # Designated initializers name only the fields they set; the rest take their defaults.
  -Wno-missing-field-initializers)

add_library(ec_build_flags INTERFACE)
target_include_directories(ec_build_flags INTERFACE ${PROJECT_SOURCE_DIR})
target_compile_definitions(ec_build_flags INTERFACE EC_VERSION="${PROJECT_VERSION}")
if(EC_SANITIZE)
  target_compile_options(ec_build_flags INTERFACE -fsanitize=address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(ec_build_flags INTERFACE -fsanitize=address,undefined)
endif()
if(EC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "EC_FUZZ needs clang (libFuzzer): configure with CXX=clang++")
  endif()
  # Coverage instrumentation for everything a fuzzer links; -fsanitize=fuzzer only on the fuzzer.
  target_compile_options(ec_build_flags INTERFACE -fsanitize=fuzzer-no-link)
endif()

# ec_add_library(NAME name [SOURCES ...] [DEPS ...]) -> target `name` and alias ec::name.
function(ec_add_library)
  cmake_parse_arguments(A "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(${A_NAME} STATIC ${A_SOURCES})
  add_library(ec::${A_NAME} ALIAS ${A_NAME})
  target_link_libraries(${A_NAME} PUBLIC ec_build_flags ${A_DEPS} PRIVATE ec_warnings)
endfunction()

# ec_add_executable(NAME name SOURCES ... DEPS ...): a daemon or tool; main.cc only parses options.
function(ec_add_executable)
  cmake_parse_arguments(A "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SOURCES})
  target_link_libraries(${A_NAME} PRIVATE ec_build_flags ec_warnings ${A_DEPS})
endfunction()

# ec_add_test(NAME name SOURCES ... DEPS ... [DEFINITIONS ...] [DEPENDS target...]
#             [LABELS ...]): GoogleTest cases; each test suite is a ctest test (named after
# the suite: ctest -R SpoolTest). Label `unit` unless told otherwise.
# The tests of one area (the first folder below tests/unit: common, msgc, mta, ...) are linked
# into one binary, build/tests/unit/<area>_unit_tests, instead of one binary per ec_add_test:
# CI builds everything twice from scratch, and each test binary costs a link and a
# listing run per build, and in the unity g++ build a compiler run of its own
# (with gtest and the standard headers parsed again) where an area binary batches its files.
# So: DEFINITIONS (compile definitions) and DEPENDS (targets built first) apply to the whole
# area binary; NAME stays a target that builds it (cmake --build . --target spool_test).
# Tests with LABELS other than `unit` keep a binary of their own.
function(ec_add_test)
  cmake_parse_arguments(A "" "NAME" "SOURCES;DEPS;DEFINITIONS;DEPENDS;LABELS" ${ARGN})
  if(NOT A_LABELS OR A_LABELS STREQUAL "unit")
    file(RELATIVE_PATH area ${PROJECT_SOURCE_DIR}/tests/unit ${CMAKE_CURRENT_SOURCE_DIR})
    string(REGEX REPLACE "/.*" "" area "${area}")
    set(target ${area}_unit_tests)
    add_custom_target(${A_NAME})
    add_dependencies(${A_NAME} ${target})
  else()
    set(target ${A_NAME})
  endif()
  if(NOT TARGET ${target})
    add_executable(${target})
    # ec_unit_tests builds every test binary and what they need, and nothing else (no daemons
    # or benchmarks they do not run): scripts/test.sh's g++ pass builds only this.
    if(NOT TARGET ec_unit_tests)
      add_custom_target(ec_unit_tests)
    endif()
    add_dependencies(ec_unit_tests ${target})
    set_target_properties(${target} PROPERTIES
      RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests/unit)
    target_link_libraries(${target} PRIVATE ec_build_flags ec_warnings
      GTest::gtest GTest::gmock GTest::gtest_main)
    if(TARGET ec_test_pch)
      target_precompile_headers(${target} REUSE_FROM ec_test_pch)
    endif()
    # EC_TEST_CXX_FLAGS: extra flags for test code only (scripts/test.sh's g++ pass builds it at
    # -O1: gtest-heavy files took twice as long at -O2, and the code under test stays at -O2).
    target_compile_options(${target} PRIVATE ${EC_TEST_CXX_FLAGS})
    if(NOT A_LABELS)
      set(A_LABELS unit)
    endif()
    # One ctest test per gtest suite (cmake/EcGtestSuites.cmake says why), listed after each
    # link and read by ctest from the directory's TEST_INCLUDE_FILES.
    set(suites_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_suites.cmake)
    string(REPLACE ";" "|" labels "${A_LABELS}")
    add_custom_command(TARGET ${target} POST_BUILD
      COMMAND ${CMAKE_COMMAND} -D TEST_EXECUTABLE=$<TARGET_FILE:${target}>
        -D CTEST_FILE=${suites_file} -D LABELS=${labels}
        -D WORKING_DIRECTORY=${PROJECT_SOURCE_DIR} -D SOURCE_DIR=${PROJECT_SOURCE_DIR}
        -D BINARY_DIR=${PROJECT_BINARY_DIR} -P ${PROJECT_SOURCE_DIR}/cmake/EcGtestSuites.cmake
      BYPRODUCTS ${suites_file} VERBATIM)
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${suites_file})
  endif()
  target_sources(${target} PRIVATE ${A_SOURCES})
  target_link_libraries(${target} PRIVATE ${A_DEPS})
  if(A_DEFINITIONS)
    target_compile_definitions(${target} PRIVATE ${A_DEFINITIONS})
  endif()
  if(A_DEPENDS)
    add_dependencies(${target} ${A_DEPENDS})
  endif()
endfunction()

# With clang, every test file's compiler run starts from a precompiled gtest.h and gmock.h
# (they and the standard headers they pull in are most of a test file's compile time: 7% off
# the whole sanitizer build). The header holds nothing a test file does not include anyway, so
# it hides no missing #include. Not with g++: its precompiled headers lose the system-header
# status of libstdc++, and GCC 12's -Warray-bounds false positives inside std::string then
# fail the -Werror build.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/ec_test_pch.cc
    CONTENT "// Compiles the precompiled header the test binaries reuse (cmake/EcHelpers.cmake).\n")
  add_library(ec_test_pch OBJECT ${PROJECT_BINARY_DIR}/ec_test_pch.cc)
  target_link_libraries(ec_test_pch PRIVATE ec_build_flags ec_warnings GTest::gtest GTest::gmock)
  target_precompile_headers(ec_test_pch PRIVATE <gtest/gtest.h> <gmock/gmock.h>)
endif()

# ec_add_fuzzer(NAME name SOURCES ... DEPS ... CORPUS dir [SECONDS s]): a libFuzzer target
# (LLVMFuzzerTestOneInput). With EC_FUZZ it is a real fuzzer that the suite runs for SECONDS
# (default EC_FUZZ_SECONDS) on a scratch copy of the committed corpus; without, it is a replay
# driver that runs every corpus file once, so the corpus is a regression test in every build.
# EC_FUZZ_REPLAY=OFF builds neither (scripts/test.sh's g++ pass: its sanitizer pass already
# compiles every fuzzer and runs it on its corpus).
function(ec_add_fuzzer)
  cmake_parse_arguments(A "" "NAME;CORPUS;SECONDS" "SOURCES;DEPS" ${ARGN})
  if(NOT EC_FUZZ AND NOT EC_FUZZ_REPLAY)
    return()
  endif()
  if(NOT A_SECONDS)
    set(A_SECONDS ${EC_FUZZ_SECONDS})
  endif()
  if(EC_FUZZ)
    add_executable(${A_NAME} ${A_SOURCES})
    target_link_options(${A_NAME} PRIVATE -fsanitize=fuzzer)
    target_compile_options(${A_NAME} PRIVATE -fsanitize=fuzzer)
    add_test(NAME fuzz_${A_NAME}
      COMMAND ${PROJECT_SOURCE_DIR}/tests/fuzz/run_fuzzer.sh $<TARGET_FILE:${A_NAME}>
              ${A_CORPUS} ${A_SECONDS})
    # Long runs (bench/fuzz/run.sh) must not hit the timeout: 10 minutes beyond the run.
    math(EXPR timeout "${A_SECONDS} + 600")
    # COST: ctest -jN starts the most costly tests first; a fuzz test runs for a fixed time, so
    # its seconds are its cost (the long ones must not be the last to start).
    set_tests_properties(fuzz_${A_NAME} PROPERTIES LABELS fuzz
      TIMEOUT ${timeout} COST ${A_SECONDS})
  else()
    add_executable(${A_NAME} ${A_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc)
    add_test(NAME fuzz_replay_${A_NAME} COMMAND ${A_NAME} ${A_CORPUS})
    set_tests_properties(fuzz_replay_${A_NAME} PROPERTIES LABELS "unit;fuzz")
  endif()
  target_link_libraries(${A_NAME} PRIVATE ec_build_flags ec_warnings ${A_DEPS})
endfunction()

# Debian's python3, where python3-pytest is installed, even when another python3 comes first
# on PATH.
find_program(EC_PYTHON python3 HINTS /usr/bin NO_DEFAULT_PATH)
if(NOT EC_PYTHON)
  find_program(EC_PYTHON python3 REQUIRED)
endif()

# ec_add_integration_test(NAME name SCRIPT file.py [TIMEOUT s] [COST s]): a pytest file that
# starts the real binaries; it finds them through EC_BINARY_DIR. COST is roughly how many seconds
# it runs (default 5): ctest -jN starts the most costly tests first, so give a long one its
# seconds, or the suite ends waiting for it alone.
function(ec_add_integration_test)
  cmake_parse_arguments(A "" "NAME;SCRIPT;TIMEOUT;COST" "LABELS" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  if(NOT A_COST)
    set(A_COST 5)
  endif()
  add_test(NAME ${A_NAME}
    COMMAND ${EC_PYTHON} -m pytest -q -p no:cacheprovider ${A_SCRIPT}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${A_NAME} PROPERTIES LABELS "integration;${A_LABELS}" TIMEOUT ${A_TIMEOUT}
    COST ${A_COST} ENVIRONMENT "EC_SOURCE_DIR=${PROJECT_SOURCE_DIR};EC_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()

# Adds every immediate subdirectory that has a CMakeLists.txt, in name order, so an area
# (tests/unit/mta/smtp, common/config) is added by creating its folder.
function(ec_add_child_directories)
  file(GLOB children LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${child} AND EXISTS ${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
