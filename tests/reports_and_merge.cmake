# essim run writes report.json, junit.xml and summary.md; two shards merge
# into a report with every seed.
file(REMOVE_RECURSE ${WORK})
foreach(shard 0 1)
  execute_process(COMMAND ${ESSIM} run ${SCENARIO} --seeds 4 --shard ${shard}/2 --quiet
                          --report-dir ${WORK}/shard${shard}
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "shard ${shard} exited ${code}\n${out}\n${err}")
  endif()
  foreach(file report.json junit.xml summary.md)
    if(NOT EXISTS ${WORK}/shard${shard}/${file})
      message(FATAL_ERROR "shard ${shard} wrote no ${file}")
    endif()
  endforeach()
endforeach()
file(READ ${WORK}/shard0/junit.xml junit)
if(NOT junit MATCHES "<testsuite name=\"bank-calm\" tests=\"[0-9]+\" failures=\"0\"")
  message(FATAL_ERROR "unexpected junit.xml:\n${junit}")
endif()
execute_process(COMMAND ${ESSIM} merge ${WORK}/shard0/report.json ${WORK}/shard1/report.json
                        --report-dir ${WORK}/merged
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "merge exited ${code}\n${out}\n${err}")
endif()
file(READ ${WORK}/merged/report.json merged)
string(JSON seeds GET "${merged}" scenarios 0 seeds_run)
if(NOT seeds EQUAL 4)
  message(FATAL_ERROR "the merged report has ${seeds} seeds, not 4")
endif()
message(STATUS "two shards of 2 seeds merged into 4")
