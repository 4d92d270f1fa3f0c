# Replays seed 2 of every scenario in two separate processes; the fingerprints
# must match.
foreach(scenario IN LISTS SCENARIOS)
  foreach(run 1 2)
    execute_process(COMMAND ${ESSIM} replay ${scenario} --seed 2 OUTPUT_VARIABLE out
                    RESULT_VARIABLE code)
    if(code GREATER 1)
      message(FATAL_ERROR "essim replay ${scenario} exited ${code}\n${out}")
    endif()
    string(REGEX MATCH "fingerprint: 0x[0-9a-f]+" fp_${run} "${out}")
  endforeach()
  if(NOT fp_1 OR NOT fp_1 STREQUAL fp_2)
    message(FATAL_ERROR "${scenario} seed 2: '${fp_1}' then '${fp_2}'")
  endif()
endforeach()
message(STATUS "every scenario replayed alike in two processes")
