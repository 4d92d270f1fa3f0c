# essim_add_test_binary(NAME SOURCES... LIBS...): one GoogleTest binary, each of
# its tests a ctest test (RapidCheck properties included).
include(GoogleTest)
function(essim_add_test_binary name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main
                                        rapidcheck rapidcheck_gtest)
  essim_target_defaults(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                       PROPERTIES ENVIRONMENT "RC_PARAMS=max_success=100")
endfunction()
