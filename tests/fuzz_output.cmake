# `fuzz bank.balances --dedup none` run by the runner ESSIM, which must name
# itself PROGRAM in its reproduce commands:
#   - the same --seed twice gives the same output (but for the wall-clock
#     figures after the ';' of the stats line);
#   - the output has no source path and nothing of RapidCheck's own;
#   - schedule lines show payloads;
#   - both reproduce commands it prints fail again with the same counterexample.

# Runs the runner with ARGN and RC_PARAMS set to RC (unset when empty); sets
# OUT to its output (stdout then stderr, without status lines) and fails unless it exits EXPECTED.
function(run_fuzz out expected rc)
  if(rc STREQUAL "")
    set(env --unset=RC_PARAMS)
  else()
    set(env "RC_PARAMS=${rc}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env} ${ESSIM} fuzz ${ARGN}
                  RESULT_VARIABLE code OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
  if(NOT code EQUAL expected)
    message(FATAL_ERROR "fuzz ${ARGN} (RC_PARAMS '${rc}') exited ${code}, not ${expected}:\n"
                        "${stdout}${stderr}")
  endif()
  # Status lines (every 5 s of wall time on standard error) depend on speed.
  string(REGEX REPLACE "fuzzing: [^\n]*\n" "" stderr "${stderr}")
  set(${out} "${stdout}${stderr}" PARENT_SCOPE)
endfunction()

# Sets OUT to the counterexample in TEXT: from FAILED to the stats line.
function(counterexample out text)
  string(FIND "${text}" "FAILED  " from)
  string(FIND "${text}" "\nstats: " to)
  if(from EQUAL -1 OR to LESS from)
    message(FATAL_ERROR "no counterexample in:\n${text}")
  endif()
  math(EXPR length "${to} - ${from}")
  string(SUBSTRING "${text}" ${from} ${length} block)
  set(${out} "${block}" PARENT_SCOPE)
endfunction()

set(args bank.balances --dedup none --seed 11 --runs 500)
run_fuzz(first 1 "" ${args})
run_fuzz(second 1 "" ${args})
foreach(name first second)
  string(REGEX REPLACE "(\nstats: [^;\n]*);[^\n]*" "\\1" ${name}_counts "${${name}}")
endforeach()
if(NOT first_counts STREQUAL second_counts)
  message(FATAL_ERROR "the same seed, other output:\n${first}\n---\n${second}")
endif()

foreach(noise "RC_FAIL" "RC_ASSERT" "Falsifiable" "Using configuration" "Some of your RapidCheck"
              "fmt::format")
  string(FIND "${first}" "${noise}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "the output shows '${noise}':\n${first}")
  endif()
endforeach()
if(first MATCHES "[A-Za-z0-9_.-]*/[A-Za-z0-9_./-]*\\.(cc|h|hpp|cpp)")
  message(FATAL_ERROR "the output shows a source path (${CMAKE_MATCH_0}):\n${first}")
endif()
string(CONCAT stats "\nstats: [0-9]+ runs?( \\([0-9]+ without an event, replaced\\))?, "
       "[0-9]+ of [0-9]+ shrinks taken, [0-9]+ deliveries; [0-9]+ deliveries/s, "
       "found in [0-9.]+ m?s, shrunk in [0-9.]+ m?s\n")
foreach(section "\nhistory \\([0-9]+ events? from [0-9]+ works?, in order\\):\n"
                "\nschedule \\([0-9]+ deliver(y|ies)\\):\n"
                "\nread model \\(expected: once in order; got: this schedule\\):\n  \\[\"acct-[0-9]+\"\\]: expected [0-9]+, got [0-9]+\n"
                "\n  (deliver|again|after crash) +[^\n]*FundsDeposited v[0-9]: [0-9]+ [A-Z]+\n"
                "${stats}")
  if(NOT first MATCHES "${section}")
    message(FATAL_ERROR "the output has nothing matching '${section}':\n${first}")
  endif()
endforeach()

# The two reproduce commands, as printed, fail again the same way.
if(NOT first MATCHES "\nreproduce:\n  ${PROGRAM} fuzz ([^\n]*)\n  RC_PARAMS=\"([^\"]*)\" ${PROGRAM} fuzz ([^\n]*)\n")
  message(FATAL_ERROR "no '${PROGRAM} fuzz' reproduce commands in:\n${first}")
endif()
separate_arguments(search UNIX_COMMAND "${CMAKE_MATCH_1}")
set(rc_params "${CMAKE_MATCH_2}")
separate_arguments(one_case UNIX_COMMAND "${CMAKE_MATCH_3}")
if(NOT rc_params MATCHES "^reproduce=[^ ]+$")
  message(FATAL_ERROR "RC_PARAMS is '${rc_params}'")
endif()
counterexample(expected "${first}")
run_fuzz(again 1 "" ${search})
counterexample(found "${again}")
if(NOT found STREQUAL expected)
  message(FATAL_ERROR "'${PROGRAM} fuzz ${search}' found another counterexample:\n${again}")
endif()
run_fuzz(reproduced 1 "${rc_params}" ${one_case})
counterexample(found "${reproduced}")
if(NOT found STREQUAL expected)
  message(FATAL_ERROR "RC_PARAMS gave another counterexample:\n${reproduced}")
endif()
# The reproduce string is bound to the settings it was found with.
run_fuzz(refused 2 "${rc_params}" ${one_case} --max-works 7)
if(NOT refused MATCHES "reproduce= was recorded for 'bank.balances --dedup none --max-works 30")
  message(FATAL_ERROR "RC_PARAMS with other settings:\n${refused}")
endif()
message(STATUS "${PROGRAM} fuzz: same output per seed, clean, and it reproduces")
