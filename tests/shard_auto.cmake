# `essim run --shard auto` in three processes, each with the variables a
# scheduler sets, then `essim merge`: the merged report must be exactly the
# unsharded run's (same failing seeds, counts, verdicts and sweep
# fingerprint), whichever scheduler gave each shard its index.
#   ESSIM      the essim executable
#   SCENARIOS  scenario files; one should fail on some seeds but not all
#   SEEDS      seeds per scenario
#   WORK       a scratch folder
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

# Every variable --shard auto reads, unset, so that the scheduler running
# this test (GitLab sets CI_NODE_TOTAL in every job) does not take part.
set(clean_env
    --unset=JOB_COMPLETION_INDEX --unset=ESSIM_SHARD_COUNT --unset=CI_NODE_INDEX
    --unset=CI_NODE_TOTAL --unset=CIRCLE_NODE_INDEX --unset=CIRCLE_NODE_TOTAL
    --unset=BUILDKITE_PARALLEL_JOB --unset=BUILDKITE_PARALLEL_JOB_COUNT)

# Runs essim with the variables in ENV (VAR=value...) and the rest as
# arguments; fails unless it exits with `expected` (a regex, e.g. "0|1").
# Sets `out`, `err` and `code` in the caller.
function(essim_with_env expected)
  cmake_parse_arguments(ARG "" "" "ENV;ARGS" ${ARGN})
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ${clean_env} ${ARG_ENV} ${ESSIM} ${ARG_ARGS}
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
  if(NOT code MATCHES "^(${expected})$")
    message(FATAL_ERROR "${ARG_ENV} essim ${ARG_ARGS}: exit ${code}, expected ${expected}\n"
                        "${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
  set(code "${code}" PARENT_SCOPE)
endfunction()

# `report` without what differs between a sweep run whole and its merged
# shards: the shard, the shard count (and so the sweep id) and wall times
# (wall_seconds, and the wall_us and compression metrics).
function(comparable report out_var)
  string(JSON report REMOVE "${report}" shard)
  string(JSON n LENGTH "${report}" scenarios)
  math(EXPR last "${n} - 1")
  foreach(i RANGE ${last})
    string(JSON report REMOVE "${report}" scenarios ${i} wall_seconds)
    string(JSON m LENGTH "${report}" scenarios ${i} metrics)
    set(wall "")
    if(m GREATER 0)
      math(EXPR mlast "${m} - 1")
      foreach(k RANGE ${mlast})
        string(JSON name GET "${report}" scenarios ${i} metrics ${k} name)
        if(name STREQUAL "wall_us" OR name STREQUAL "compression")
          list(APPEND wall ${k})
        endif()
      endforeach()
    endif()
    list(REVERSE wall)  # the last first, so that the others keep their index
    foreach(k IN LISTS wall)
      string(JSON report REMOVE "${report}" scenarios ${i} metrics ${k})
    endforeach()
    foreach(field id shard_count shards)
      string(JSON report REMOVE "${report}" scenarios ${i} sweep ${field})
    endforeach()
  endforeach()
  set(${out_var} "${report}" PARENT_SCOPE)
endfunction()

# The sweep run whole. Some seeds of it fail (exit 1); the check means
# something only if some seeds fail and some pass.
essim_with_env(1 ARGS run ${SCENARIOS} --seeds ${SEEDS} --quiet --report-dir ${WORK}/whole)
file(READ ${WORK}/whole/report.json whole)
string(JSON n LENGTH "${whole}" scenarios)
math(EXPR last "${n} - 1")
set(failed 0)
set(passed 0)
foreach(i RANGE ${last})
  string(JSON seeds_run GET "${whole}" scenarios ${i} seeds_run)
  string(JSON seeds_failed GET "${whole}" scenarios ${i} seeds_failed)
  math(EXPR failed "${failed} + ${seeds_failed}")
  math(EXPR passed "${passed} + ${seeds_run} - ${seeds_failed}")
endforeach()
if(failed EQUAL 0 OR passed EQUAL 0)
  message(FATAL_ERROR "the unsharded run has ${failed} failing and ${passed} passing seeds; "
                      "the scenarios must give both (tune tests/cli/shard-some-seeds-fail.yaml)")
endif()
comparable("${whole}" expected)

# Three shards, each told its index by a scheduler's variables, merged.
# `round` names the round; ENV0..ENV2 are the variables of shards 0..2, and
# ARGS0..ARGS2 extra arguments (--shard-count).
function(shards_merge_to_whole round)
  cmake_parse_arguments(ARG "" "" "ENV0;ENV1;ENV2;ARGS0;ARGS1;ARGS2" ${ARGN})
  set(reports "")
  set(shards_failing 0)
  foreach(shard 0 1 2)
    set(dir ${WORK}/${round}/shard${shard})
    essim_with_env("0|1" ENV ${ARG_ENV${shard}}
                   ARGS run ${SCENARIOS} --seeds ${SEEDS} --shard auto ${ARG_ARGS${shard}}
                        --report-dir ${dir})
    if(NOT err MATCHES "shard ${shard}/3 from ")
      message(FATAL_ERROR "${round}: shard ${shard} did not say which shard it is:\n${err}")
    endif()
    string(REGEX MATCH "shard [0-9]+/[0-9]+ from [^\n]*" said "${err}")
    message(STATUS "${round}: ${said}")
    file(READ ${dir}/report.json report)
    string(JSON written GET "${report}" shard)
    string(JSON ok GET "${report}" ok)
    if(NOT written STREQUAL "${shard}/3")
      message(FATAL_ERROR "${round}: shard ${shard}'s report.json says shard '${written}'")
    endif()
    # The exit code agrees with the shard's own verdict.
    if((ok AND NOT code EQUAL 0) OR (NOT ok AND NOT code EQUAL 1))
      message(FATAL_ERROR "${round}: shard ${shard} exited ${code} with ok ${ok}")
    endif()
    if(NOT ok)
      math(EXPR shards_failing "${shards_failing} + 1")
    endif()
    list(APPEND reports ${dir}/report.json)
  endforeach()
  message(STATUS "${round}: ${shards_failing} of 3 shards had failing seeds")
  essim_with_env(1 ARGS merge ${reports} --report-dir ${WORK}/${round}/merged)
  file(READ ${WORK}/${round}/merged/report.json merged)
  comparable("${merged}" actual)
  string(JSON same EQUAL "${expected}" "${actual}")
  if(NOT same)
    message(FATAL_ERROR "${round}: the merged shards differ from the unsharded run\n"
                        "unsharded: ${expected}\nmerged: ${actual}")
  endif()
  message(STATUS "${round}: three shards merged into exactly the unsharded run")
endfunction()

# Each shard from another scheduler: the index is what counts, not who gave it.
# GitLab (1-based), CircleCI, Kubernetes (the count from ESSIM_SHARD_COUNT).
shards_merge_to_whole(gitlab_circleci_kubernetes
  ENV0 CI_NODE_INDEX=1 CI_NODE_TOTAL=3
  ENV1 CIRCLE_NODE_INDEX=1 CIRCLE_NODE_TOTAL=3
  ENV2 JOB_COMPLETION_INDEX=2 ESSIM_SHARD_COUNT=3)
# Buildkite, Kubernetes (the count from --shard-count), GitLab.
shards_merge_to_whole(buildkite_kubernetes_gitlab
  ENV0 BUILDKITE_PARALLEL_JOB=0 BUILDKITE_PARALLEL_JOB_COUNT=3
  ENV1 JOB_COMPLETION_INDEX=1 ARGS1 --shard-count 3
  ENV2 CI_NODE_INDEX=3 CI_NODE_TOTAL=3)
