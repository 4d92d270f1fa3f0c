# Inputs that cannot be files in the source tree, made at test time in WORK:
# a FIFO (validate must not wait for a writer), a directory, a device, an
# empty file and one past the size limit. Each must exit 2 promptly with
# file:line:column and what is wrong.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/dir.yaml)
file(WRITE ${WORK}/empty.yaml "")
file(WRITE ${WORK}/blank.yaml "  \n\n\t\n")
# 1 MiB + 1 byte of YAML comments after a valid scenario.
string(REPEAT "#" 1023 comment)
string(REPEAT "${comment}\n" 1024 block)
file(WRITE ${WORK}/large.yaml "name: large\ndomain: bank\n${block}")
execute_process(COMMAND mkfifo ${WORK}/fifo.yaml RESULT_VARIABLE fifo_made)

function(expect_error file fragment)
  execute_process(COMMAND ${ESSIM} validate ${file} RESULT_VARIABLE code OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 10)
  if(NOT code EQUAL 2)
    message(FATAL_ERROR "essim validate ${file} exited '${code}', expected 2\n${out}${err}")
  endif()
  string(FIND "${out}${err}" "${file}:${fragment}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "essim validate ${file}: no '${file}:${fragment}' in:\n${out}${err}")
  endif()
  message(STATUS "${file}: exit 2 as expected")
endfunction()

expect_error(${WORK}/dir.yaml "1:1: this is a directory")
expect_error(${WORK}/missing.yaml "1:1: cannot open the file")
expect_error(/dev/null "1:1: this is a device, not a scenario file")
expect_error(${WORK}/empty.yaml "1:1: the file is empty")
expect_error(${WORK}/blank.yaml "1:1: the file is empty")
expect_error(${WORK}/large.yaml "1:1: the file is larger than 1048576 bytes")
if(fifo_made EQUAL 0)
  expect_error(${WORK}/fifo.yaml "1:1: this is a FIFO (named pipe), not a scenario file")
else()
  message(FATAL_ERROR "mkfifo failed: the FIFO case cannot be tested")
endif()
