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

# ec_add_test(NAME name SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary; each TEST is
# its own ctest case. Label `unit` unless told otherwise.
function(ec_add_test)
  cmake_parse_arguments(A "" "NAME" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  add_executable(${A_NAME} ${A_SOURCES})
  target_link_libraries(${A_NAME} PRIVATE ec_build_flags ec_warnings ${A_DEPS}
    GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${A_NAME}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    # gtest_discover_tests flattens PROPERTIES into one list, so a ';' inside ENVIRONMENT would
    # split it: one variable per property instead.
    PROPERTIES LABELS "${A_LABELS}" ENVIRONMENT "EC_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
      ENVIRONMENT_MODIFICATION "EC_BINARY_DIR=set:${PROJECT_BINARY_DIR}"
    DISCOVERY_TIMEOUT 60)
endfunction()

# ec_add_fuzzer(NAME name SOURCES ... DEPS ... CORPUS dir [SECONDS s]): a libFuzzer target
# (LLVMFuzzerTestOneInput). With EC_FUZZ it is a real fuzzer that the suite runs for SECONDS
# (default EC_FUZZ_SECONDS) on a scratch copy of the committed corpus; without, it is a replay
# driver that runs every corpus file once, so the corpus is a regression test in every build.
function(ec_add_fuzzer)
  cmake_parse_arguments(A "" "NAME;CORPUS;SECONDS" "SOURCES;DEPS" ${ARGN})
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
