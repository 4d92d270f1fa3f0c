# Runs 'essim validate' on one hostile scenario file and checks it against
# the file's first line:
#   # expect: 2 "hostile/NAME.yaml:LINE:COLUMN: message fragment"
#   # expect: 0
# Exit 2 must print the fragment, location included. Exit 0 (the file is
# accepted) must also run: 'essim run' on one seed exits 0 or 1, never an
# abort, within the test's timeout.
# file(READ), not file(STRINGS): the latter escapes the ';' of a message.
file(READ ${FILE} head LIMIT 1000)
string(REGEX MATCH "^[^\n]*" first "${head}")
if(NOT first MATCHES "^# expect: ([0-9]+)( \"(.*)\")?$")
  message(FATAL_ERROR "${FILE}: the first line must read '# expect: CODE \"FRAGMENT\"'")
endif()
set(expected_code ${CMAKE_MATCH_1})
set(fragment "${CMAKE_MATCH_3}")
if(expected_code EQUAL 2 AND NOT fragment MATCHES "^hostile/[^:]+:[1-9][0-9]*:[1-9][0-9]*: ")
  message(FATAL_ERROR "${FILE}: an expected error must start with file:line:column")
endif()
execute_process(COMMAND ${ESSIM} validate ${NAME} RESULT_VARIABLE code OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT code EQUAL expected_code)
  message(FATAL_ERROR "essim validate ${NAME} exited ${code}, expected ${expected_code}\n${out}${err}")
endif()
string(FIND "${out}${err}" "${fragment}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "essim validate ${NAME}: no '${fragment}' in:\n${out}${err}")
endif()
if(expected_code EQUAL 0)
  execute_process(COMMAND ${ESSIM} run ${NAME} --seeds 1 --quiet RESULT_VARIABLE code
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0 AND NOT code EQUAL 1)
    message(FATAL_ERROR "essim run ${NAME} exited ${code}: validate accepted it\n${out}${err}")
  endif()
endif()
message(STATUS "essim validate ${NAME}: exit ${code} as expected")
