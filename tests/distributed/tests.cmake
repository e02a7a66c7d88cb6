# The distributed tests run under mpirun, as root in CI (--allow-run-as-root)
# and with more ranks than the machine's 2 cores (--oversubscribe). Each run
# has a timeout: a hang is a failure, not a stuck CI.
find_program(EMBER_MPIRUN mpirun REQUIRED)
set(EMBER_MPIRUN_FLAGS --oversubscribe --allow-run-as-root --bind-to none)
# In containers the kernel may refuse CMA (process_vm_readv): shared-memory
# copies then go through a buffer instead of failing.
set(EMBER_MPI_ENV OMPI_MCA_btl_vader_single_copy_mechanism=none EMBER_NUM_THREADS=1)

add_executable(distributed_tests ${CMAKE_CURRENT_SOURCE_DIR}/distributed/main.cpp
                                 ${CMAKE_CURRENT_SOURCE_DIR}/distributed/collectives_test.cpp
                                 ${CMAKE_CURRENT_SOURCE_DIR}/distributed/ddp_test.cpp)
target_link_libraries(distributed_tests PRIVATE ember_distributed GTest::gtest)
if(EMBER_COMPILER)  # compiled training steps with their all-reduces inside
  target_sources(distributed_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/distributed/ddp_compiled_test.cpp)
  target_link_libraries(distributed_tests PRIVATE ember_compiler)
endif()
foreach(ranks 2 3)
  add_test(NAME distributed.collectives_${ranks}_ranks
           COMMAND ${EMBER_MPIRUN} ${EMBER_MPIRUN_FLAGS} -np ${ranks} $<TARGET_FILE:distributed_tests>)
  set_tests_properties(distributed.collectives_${ranks}_ranks PROPERTIES TIMEOUT 120 ENVIRONMENT "${EMBER_MPI_ENV}")
endforeach()
# Without mpirun: the errors before init() and the world of one after it.
add_executable(distributed_single_process_test ${CMAKE_CURRENT_SOURCE_DIR}/distributed/single_process_test.cpp)
target_link_libraries(distributed_single_process_test PRIVATE ember_distributed GTest::gtest GTest::gtest_main)
add_test(NAME distributed.single_process COMMAND distributed_single_process_test)
add_test(NAME distributed.collectives_1_process COMMAND distributed_tests)
# One rank raising stops every rank within seconds.
add_executable(distributed_failing_rank ${CMAKE_CURRENT_SOURCE_DIR}/distributed/failing_rank.cpp)
target_link_libraries(distributed_failing_rank PRIVATE ember_distributed)
add_test(NAME distributed.a_failing_rank_stops_all
         COMMAND ${CMAKE_COMMAND} -DMPIRUN=${EMBER_MPIRUN} -DPROGRAM=$<TARGET_FILE:distributed_failing_rank>
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/distributed/expect_failure.cmake)
set_tests_properties(distributed.a_failing_rank_stops_all PROPERTIES TIMEOUT 90 ENVIRONMENT "${EMBER_MPI_ENV}")
