# An external scenario's repro, written to another folder, replays: its
# process is started where the original's was.
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${ESSIM} shrink ${SCENARIO} --seed 1 -o ${WORK}/repro.yaml
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "shrink exited ${code}:\n${out}${err}")
endif()
execute_process(COMMAND ${ESSIM} replay ${WORK}/repro.yaml
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0 OR NOT out MATCHES "reproduces user_code_does_not_throw")
  message(FATAL_ERROR "replay of the repro exited ${code}:\n${out}${err}")
endif()
