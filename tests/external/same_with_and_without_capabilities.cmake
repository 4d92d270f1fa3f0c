# The optional calls of the protocol (docs/protocol.md, "Capabilities") change
# how many round trips a sweep takes, never what it finds: each scenario gives
# the same exit code, sweep fingerprint and violations with the SDK serving
# them and with ESSIM_SDK_CAPABILITIES="" (an SDK without them).
foreach(scenario IN LISTS SCENARIOS)
  foreach(mode served none)
    if(mode STREQUAL "served")
      set(capabilities "fold,apply_many")
    else()
      set(capabilities "")
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} -E env "ESSIM_SDK_CAPABILITIES=${capabilities}"
                            ${ESSIM} run ${scenario} --seeds 6 --quiet
                    RESULT_VARIABLE code_${mode} OUTPUT_VARIABLE out_${mode}
                    ERROR_VARIABLE err_${mode})
    string(REGEX MATCH "sweep fingerprint: 0x[0-9a-f]+" fp_${mode} "${out_${mode}}")
    if(NOT fp_${mode})
      message(FATAL_ERROR "${scenario} (capabilities: '${capabilities}'): no sweep fingerprint "
                          "(exit ${code_${mode}}):\n${out_${mode}}${err_${mode}}")
    endif()
    # The violations, without the timings that differ from run to run.
    string(REGEX MATCHALL "\n    [a-z_]+: [^\n]*" found_${mode} "${out_${mode}}")
  endforeach()
  if(NOT code_served EQUAL code_none OR NOT fp_served STREQUAL fp_none)
    message(FATAL_ERROR "${scenario}: exit ${code_served}, ${fp_served} with the capabilities; "
                        "exit ${code_none}, ${fp_none} without")
  endif()
  if(NOT found_served STREQUAL found_none)
    message(FATAL_ERROR "${scenario}: other violations with the capabilities:\n${found_served}\n"
                        "than without:\n${found_none}")
  endif()
  message(STATUS "${scenario}: exit ${code_served}, ${fp_served} with and without")
endforeach()
