# The operations a failing seed ran are in every report file, and survive a
# merge (which reads report.json back).
#   -DESSIM=... -DSCENARIO=... -DWORK=... -DEXPECTED_LINE="rebuild balances at 2s, ..."
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${ESSIM} run ${SCENARIO} --seeds 1 --quiet --report-dir ${WORK}/run
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 1)
  message(FATAL_ERROR "essim run exited ${code}, expected 1\n${out}\n${err}")
endif()
execute_process(COMMAND ${ESSIM} merge ${WORK}/run/report.json --report-dir ${WORK}/merged
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 1)
  message(FATAL_ERROR "essim merge exited ${code}, expected 1\n${out}\n${err}")
endif()
foreach(dir run merged)
  file(READ ${WORK}/${dir}/report.json json)
  string(JSON operations GET "${json}" scenarios 0 failures 0 operations)
  string(JSON count LENGTH "${operations}")
  string(JSON kind GET "${operations}" 0 kind)
  string(JSON target GET "${operations}" 0 target)
  string(JSON at_us GET "${operations}" 0 at_us)
  if(NOT count EQUAL 2 OR NOT kind STREQUAL "rebuild" OR NOT target STREQUAL "balances"
     OR NOT at_us EQUAL 2000000)
    message(FATAL_ERROR "${dir}/report.json: failures[0].operations is ${operations}")
  endif()
  foreach(pair "summary.md;Operations of this seed: ${EXPECTED_LINE}"
               "report.html;operations: ${EXPECTED_LINE}" "junit.xml;operations: ${EXPECTED_LINE}")
    list(GET pair 0 name)
    list(GET pair 1 line)
    file(READ ${WORK}/${dir}/${name} text)
    string(FIND "${text}" "${line}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${dir}/${name} does not say '${line}':\n${text}")
    endif()
  endforeach()
endforeach()
message(STATUS "the failing seed's operations are in report.json, summary.md, report.html and junit.xml, merged too")
