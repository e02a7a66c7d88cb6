# Installs the build in BUILD into WORK/prefix, builds tests/consumer/project
# against it with find_package and main.cpp with pkg-config, runs them, and
# checks that the eager-only binary has no libMLIR among its libraries.
include(${CMAKE_CURRENT_LIST_DIR}/run.cmake)

file(REMOVE_RECURSE ${WORK})
set(prefix ${WORK}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${prefix})
foreach(f lib/cmake/ember/emberConfig.cmake lib/cmake/ember/emberConfigVersion.cmake lib/pkgconfig/ember.pc
          lib/pkgconfig/ember-compiler.pc include/ember/ember.h include/ember/jit/jit.h bin/ember-opt
          bin/ember-compile bin/ember-bench)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "the install has no ${f}")
  endif()
endforeach()
if(EXISTS ${prefix}/include/ember/kernels)
  message(FATAL_ERROR "kernels/ internals were installed as public headers")
endif()

# find_package
run(${CMAKE_COMMAND} -S ${SOURCE}/project -B ${WORK}/build -G Ninja -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK}/build)
run(${WORK}/build/consumer_eager)
message(STATUS "${out}")
run(${WORK}/build/consumer)
message(STATUS "${out}")
run(ldd ${WORK}/build/consumer_eager)
if(out MATCHES "libMLIR|libLLVM|libember_compiler")
  message(FATAL_ERROR "consumer_eager links the compiler's libraries:\n${out}")
endif()

# The Python package, from the install alone (not the build tree).
if(EXISTS ${BUILD}/python)
  set(ENV{PYTHONPATH} ${prefix}/lib/python3/dist-packages)
  run(/usr/bin/python3 ${SOURCE}/check_python.py)
  if(NOT out MATCHES "${prefix}/lib/python3/dist-packages/ember/__init__.py \\[3.0, 3.0\\] \\[2.0, 2.0\\]")
    message(FATAL_ERROR "the installed package did not import or compute:\n${out}")
  endif()
  message(STATUS "python: ${out}")
  unset(ENV{PYTHONPATH})
endif()

# pkg-config
set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
run(pkg-config --cflags --libs ember-compiler)
string(STRIP "${out}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
run(c++ -O1 ${SOURCE}/project/main.cpp ${flags} -Wl,-rpath,${prefix}/lib -o ${WORK}/consumer_pkgconfig)
run(${WORK}/consumer_pkgconfig)
message(STATUS "pkg-config: ${out}")
