# Shrinks the first failing seed of a bug scenario; the repro file must keep
# the expected property (EXPECTED), fail it on replay (exit 0: it reproduces),
# with fewer decisions than the original run, and no longer reproduce it
# (exit 1) once its bug is turned off.
execute_process(COMMAND ${ESSIM} shrink ${SCENARIO} --seed ${SEED} -o ${REPRO} --max-time 30
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "essim shrink exited ${code}\n${out}\n${err}")
endif()
set(before 0)
set(after 0)
foreach(kind "faults" "message fates" "work")
  if(NOT out MATCHES "  ${kind} +([0-9]+) -> ([0-9]+)")
    message(FATAL_ERROR "no '${kind}' counts in:\n${out}")
  endif()
  math(EXPR before "${before} + ${CMAKE_MATCH_1}")
  math(EXPR after "${after} + ${CMAKE_MATCH_2}")
endforeach()
if(NOT after LESS before)
  message(FATAL_ERROR "shrinking kept ${after} of ${before} decisions\n${out}")
endif()
string(REGEX MATCH "([a-z_]+) still fails" _ "${out}")
set(property ${CMAKE_MATCH_1})
if(NOT out MATCHES "^[^\n]* ${EXPECTED} still fails")
  message(FATAL_ERROR "shrink did not keep the expected ${EXPECTED}:\n${out}")
endif()
# A repro that still fails its property meets its expectation: exit 0.
execute_process(COMMAND ${ESSIM} replay ${REPRO} RESULT_VARIABLE code OUTPUT_VARIABLE replay)
if(NOT code EQUAL 0 OR NOT replay MATCHES "\n  ${property}: " OR NOT replay MATCHES
                                                               "\nreproduces ${property}\n")
  message(FATAL_ERROR "the repro does not fail ${property} (exit ${code}):\n${replay}")
endif()
# With its bug turned off, the repro no longer reproduces: exit 1.
file(READ ${REPRO} text)
string(REGEX REPLACE "\nbugs:[^\n]*" "" fixed "${text}")
if(fixed STREQUAL text)
  message(FATAL_ERROR "no 'bugs:' line in ${REPRO}")
endif()
string(REGEX REPLACE "\\.repro\\.yaml$" ".fixed.repro.yaml" fixed_repro ${REPRO})
file(WRITE ${fixed_repro} "${fixed}")
execute_process(COMMAND ${ESSIM} replay ${fixed_repro} RESULT_VARIABLE code OUTPUT_VARIABLE replay)
if(NOT code EQUAL 1 OR NOT replay MATCHES "\nno longer reproduces ${property} \\(fixed\\?\\)\n")
  message(FATAL_ERROR "the fixed repro still reproduces ${property} (exit ${code}):\n${replay}")
endif()
message(STATUS "${property}: ${before} decisions shrunk to ${after}; the repro fails the same way, "
               "and no longer does with its bug off")
