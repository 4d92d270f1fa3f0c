# A runner built under another name (MY_SIM, named "my_sim") names itself in
# every replay command: the console of run, the reports (report.json,
# junit.xml, summary.md), and shrink's repro file and its last line.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

function(expect_my_sim what text)
  if(NOT text MATCHES "my_sim replay [^\n]*--seed")
    message(FATAL_ERROR "${what}: no 'my_sim replay ... --seed' in:\n${text}")
  endif()
  if(text MATCHES "essim replay")
    message(FATAL_ERROR "${what}: names 'essim replay':\n${text}")
  endif()
endfunction()

# A failing pass scenario: FAILED lines and the reports.
execute_process(COMMAND ${MY_SIM} run ${FAILING} --quiet --report-dir ${WORK}/reports
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 1)
  message(FATAL_ERROR "my_sim run exited ${code}, expected 1\n${out}\n${err}")
endif()
expect_my_sim("console" "${out}")
foreach(report report.json junit.xml summary.md)
  file(READ ${WORK}/reports/${report} text)
  expect_my_sim("${report}" "${text}")
endforeach()
file(READ ${WORK}/reports/report.json json)
string(JSON replay GET "${json}" scenarios 0 failures 0 replay)
if(NOT replay MATCHES "^my_sim replay .*ack-before-sync-expects-pass.yaml --seed [0-9]+$")
  message(FATAL_ERROR "report.json failure's replay is '${replay}'")
endif()

# A caught bug: the CAUGHT line's replay.
execute_process(COMMAND ${MY_SIM} run ${BUG} --quiet RESULT_VARIABLE code OUTPUT_VARIABLE out)
if(NOT code EQUAL 0 OR NOT out MATCHES "CAUGHT")
  message(FATAL_ERROR "my_sim run ${BUG} exited ${code}\n${out}")
endif()
expect_my_sim("CAUGHT line" "${out}")

# shrink: the repro file's header and the last line.
execute_process(COMMAND ${MY_SIM} shrink ${BUG} --seed 1 -o ${WORK}/bug.repro.yaml --max-time 30
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "my_sim shrink exited ${code}\n${out}\n${err}")
endif()
if(NOT out MATCHES "\nreplay: my_sim replay ${WORK}/bug.repro.yaml\n")
  message(FATAL_ERROR "shrink's replay line does not name my_sim:\n${out}")
endif()
file(READ ${WORK}/bug.repro.yaml repro)
if(NOT repro MATCHES "# Replay: my_sim replay <this file>")
  message(FATAL_ERROR "the repro header does not name my_sim:\n${repro}")
endif()
message(STATUS "every replay command names my_sim")
