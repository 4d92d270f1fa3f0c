# Runs ESSIM with ARGS; fails unless it exits with EXPECTED and, when MATCH is
# given, its output (stdout and stderr) matches the regular expression MATCH.
execute_process(COMMAND ${ESSIM} ${ARGS} RESULT_VARIABLE code OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT code EQUAL EXPECTED)
  message(FATAL_ERROR "essim ${ARGS} exited ${code}, expected ${EXPECTED}\n${out}\n${err}")
endif()
if(DEFINED MATCH AND NOT "${out}${err}" MATCHES "${MATCH}")
  message(FATAL_ERROR "essim ${ARGS}: output does not match '${MATCH}':\n${out}\n${err}")
endif()
message(STATUS "essim ${ARGS} exited ${code} as expected")
