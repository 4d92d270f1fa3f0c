# Runs ESSIM with ARGS and fails unless it exits with EXPECTED.
execute_process(COMMAND ${ESSIM} ${ARGS} RESULT_VARIABLE code OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT code EQUAL EXPECTED)
  message(FATAL_ERROR "essim ${ARGS} exited ${code}, expected ${EXPECTED}\n${out}\n${err}")
endif()
message(STATUS "essim ${ARGS} exited ${code} as expected")
