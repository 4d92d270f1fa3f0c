# run --check-determinism on the test domain's scenarios (tests/determinism/nondet.h),
# with the runner NONDET_SIM built by essim_add_scenarios. DIR: this folder.
#
# Each non-deterministic scenario passes every property, so a plain run
# exits 0; with --check-determinism the second run, in a new process,
# differs: exit 3, the first differing step or the differing final state,
# nodes by name, worded neutrally.

function(run_nondet name expected)
  execute_process(COMMAND ${NONDET_SIM} run ${DIR}/${name}.yaml ${ARGN} --quiet
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL expected)
    message(FATAL_ERROR "nondet_sim run ${name} ${ARGN} exited ${code}, expected ${expected}\n"
                        "${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

function(expect name text regex)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${name}: no match for '${regex}' in:\n${text}")
  endif()
endfunction()

function(expect_not name text regex)
  if(text MATCHES "${regex}")
    message(FATAL_ERROR "${name}: '${regex}' should not be in:\n${text}")
  endif()
endfunction()

# What every mismatch says: neutral wording, node names, exit 3.
function(expect_neutral name text)
  expect(${name} "${text}" "The code under test or essim depends on something the seed does not fix")
  expect(${name} "${text}" "wall clock, std::random_device, a container keyed or ordered by pointers")
  expect(${name} "${text}" "replay: nondet_sim replay [^\n]*${name}.yaml --seed [0-9]+")
  expect_not(${name} "${text}" "essim itself")
  expect_not(${name} "${text}" "[ =]n[0-9]+[ \n]")  # nodes by name, not by id
endfunction()

# The domain kept deterministic passes.
run_nondet(deterministic 0 --check-determinism --jobs 2)
expect(deterministic "${out}" "PASSED  nondet-deterministic: 3 seeds")
expect(deterministic "${out}" "determinism: every seed ran a second time, in a new process, alike")

# (a) Event payloads carry an address of the process: the runs part at a
# client's first tagged append, both sides shown.
foreach(name tagged-events)
  run_nondet(${name} 0)
  expect(${name} "${out}" "PASSED  nondet-tagged-events")
  foreach(jobs 1 2)
    run_nondet(${name} 3 --check-determinism --jobs ${jobs})
    expect(${name} "${out}" "NONDETERMINISTIC  nondet-tagged-events seed 1: a second run of the same seed, in a new process, differs")
    expect(${name} "${out}" "NONDETERMINISTIC  nondet-tagged-events seed 2:")
    expect(${name} "${out}" "the runs part at trace step [0-9]+:\n    both runs:    #[0-9]+ [^\n]+\n    this process: #[0-9]+ [^\n]* send client[0-9] peer=store [^\n]*\n    new process:  #[0-9]+ [^\n]* send client[0-9] peer=store ")
    expect(${name} "${out}" "determinism: 2 seed\\(s\\) ran differently the second time")
    expect_neutral(${name} "${out}")
  endforeach()
endforeach()

# (b) Only a read model differs: every trace step agrees, and the check names
# the projection whose state differs (not the deterministic one).
run_nondet(read-model-only 0)
run_nondet(read-model-only 3 --check-determinism)
expect(read-model-only "${out}" "all [0-9]+ trace steps agree; the final state differs in:\n    projection feed\n  replay:")
expect_not(read-model-only "${out}" "projection totals|the runs part")
expect_neutral(read-model-only "${out}")

# A second run that dies is a harness failure, said so, with how it ended.
run_nondet(dies-rerun 0)
run_nondet(dies-rerun 3 --check-determinism)
expect(dies-rerun "${out}" "NOT CHECKED  nondet-dies-rerun seed 1: the second run \\('nondet_sim determinism-child --seed 1 -- [^']*dies-rerun.yaml'\\) was ended by signal 6 \\(SIGABRT\\)")
expect(dies-rerun "${out}" "could not be made or read \\(see above\\): a harness failure, not a verdict on the code under test")
expect_not(dies-rerun "${out}" "NONDETERMINISTIC")

message(STATUS "every non-deterministic scenario was reported, with exit 3")
