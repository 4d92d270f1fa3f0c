# The optional calls of the protocol (docs/protocol.md, "Capabilities") change
# how many round trips a sweep takes, never what it finds: each scenario gives
# the same exit code, sweep fingerprint and violations with the SDK serving
# them (and essim batching independent calls) and with
# ESSIM_SDK_CAPABILITIES="" (an SDK without them) and ESSIM_EXTERNAL_BATCHES=0.
foreach(scenario IN LISTS SCENARIOS)
  foreach(mode served none)
    if(mode STREQUAL "served")
      set(capabilities "fold,apply_many,model_walk,invariant_walk,log_walk")
      set(batches 1)
    else()
      set(capabilities "")
      set(batches 0)
    endif()
    set(reports ${CMAKE_CURRENT_BINARY_DIR}/capabilities-${mode})
    file(REMOVE_RECURSE ${reports})
    file(MAKE_DIRECTORY ${reports})
    set(calls ${reports}/calls.txt)  # by a domain that records its calls (ESSIM_TEST_CALLS)
    execute_process(COMMAND ${CMAKE_COMMAND} -E env "ESSIM_SDK_CAPABILITIES=${capabilities}"
                            "ESSIM_EXTERNAL_BATCHES=${batches}" "ESSIM_TEST_CALLS=${calls}"
                            ${ESSIM} run ${scenario} --seeds 6 --quiet --report-dir ${reports}
                    RESULT_VARIABLE code_${mode} OUTPUT_VARIABLE out_${mode}
                    ERROR_VARIABLE err_${mode})
    string(REGEX MATCH "sweep fingerprint: 0x[0-9a-f]+" fp_${mode} "${out_${mode}}")
    if(NOT fp_${mode})
      message(FATAL_ERROR "${scenario} (capabilities: '${capabilities}'): no sweep fingerprint "
                          "(exit ${code_${mode}}):\n${out_${mode}}${err_${mode}}")
    endif()
    # The violations, without the timings that differ from run to run.
    string(REGEX MATCHALL "\n    [a-z_]+: [^\n]*" found_${mode} "${out_${mode}}")
    # Every failure's evidence and every probe's hits, as report.json has them.
    file(READ ${reports}/report.json report)
    string(JSON failures_${mode} GET "${report}" scenarios 0 failures)
    string(JSON probes_${mode} GET "${report}" scenarios 0 probes)
    # The ways that save round trips were taken with them, and only then
    # (NAME[]: a call sent in a batch).
    if(scenario MATCHES "walks.yaml$")
      set(saving model_walk invariant_walk log_walk)
    elseif(scenario MATCHES "upcasts.yaml$")
      set(saving "write_as[]" "upcast[]" "decide[]")
    else()
      set(saving)
    endif()
    if(saving)
      file(READ ${calls} calls_made)
      foreach(way IN LISTS saving)
        string(FIND "${calls_made}" "${way} " at)
        if(at EQUAL -1)
          string(FIND "${calls_made}" "${way}\n" at)
        endif()
        if(mode STREQUAL "served" AND at EQUAL -1)
          message(FATAL_ERROR "${scenario}: essim made no ${way} with the capabilities and "
                              "batches; the calls it made:\n${calls_made}")
        elseif(mode STREQUAL "none" AND NOT at EQUAL -1)
          message(FATAL_ERROR "${scenario}: essim made a ${way} without them:\n${calls_made}")
        endif()
      endforeach()
    endif()
  endforeach()
  if(NOT code_served EQUAL code_none OR NOT fp_served STREQUAL fp_none)
    message(FATAL_ERROR "${scenario}: exit ${code_served}, ${fp_served} with the capabilities; "
                        "exit ${code_none}, ${fp_none} without")
  endif()
  if(NOT found_served STREQUAL found_none)
    message(FATAL_ERROR "${scenario}: other violations with the capabilities:\n${found_served}\n"
                        "than without:\n${found_none}")
  endif()
  if(NOT failures_served STREQUAL failures_none OR NOT probes_served STREQUAL probes_none)
    message(FATAL_ERROR "${scenario}: report.json's failures or probes differ with the "
                        "capabilities:\n${failures_served}\n${probes_served}\nand without:\n"
                        "${failures_none}\n${probes_none}")
  endif()
  message(STATUS "${scenario}: exit ${code_served}, ${fp_served} with and without")
endforeach()
