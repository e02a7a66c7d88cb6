# cmake -DMPIRUN=... -DPROGRAM=... -P expect_failure.cmake: the program under
# mpirun -np 2 must fail, say which rank failed and why, and end within
# 15 s (without the terminate handler rank 0 would wait for ever).
string(TIMESTAMP start "%s")
execute_process(COMMAND ${MPIRUN} --oversubscribe --allow-run-as-root --bind-to none -np 2 ${PROGRAM}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
string(TIMESTAMP end "%s")
math(EXPR seconds "${end} - ${start}")
set(all "${out}${err}")
if(result EQUAL 0)
  message(FATAL_ERROR "the failing rank's program exited 0:\n${all}")
endif()
if(NOT all MATCHES "rank 1 of 2 failed: rank 1 fails on purpose")
  message(FATAL_ERROR "no message naming the failed rank and its error:\n${all}")
endif()
if(seconds GREATER 15)
  message(FATAL_ERROR "the ranks took ${seconds} s to stop (result ${result}):\n${all}")
endif()
message(STATUS "stopped in ${seconds} s with status ${result}")
