# Runs char_lstm_words eagerly and with --jit for STEPS steps: both must
# reach the example's goal (exit 0; the --jit run also fails itself after
# more than 2 compiles), and their final smoothed losses must agree within
# 1e-3 nats/char (float rounding of kernels that add in another order,
# through STEPS Adam steps).
foreach(mode eager jit)
  set(args --steps ${STEPS} --samples 0)
  if(mode STREQUAL "jit")
    list(APPEND args --jit)
  endif()
  execute_process(COMMAND ${PROGRAM} ${args} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "char_lstm_words ${args} failed (${rc}):\n${out}\n${err}")
  endif()
  # "loss 2.12345 nats/char": the digits as an integer in units of 1e-5.
  if(NOT out MATCHES "loss ([0-9]+)\\.([0-9][0-9][0-9][0-9][0-9]) nats/char after")
    message(FATAL_ERROR "no final loss in:\n${out}")
  endif()
  math(EXPR loss_${mode} "${CMAKE_MATCH_1} * 100000 + 1${CMAKE_MATCH_2} - 100000")
  message(STATUS "${mode}: ${out}")
endforeach()
math(EXPR difference "${loss_jit} - ${loss_eager}")
if(difference GREATER 100 OR difference LESS -100)
  message(FATAL_ERROR "the compiled run's loss differs from the eager run's by ${difference}e-5")
endif()
