# Builds the .deb of the build in BUILD with CPack into WORK and checks its
# name, its Depends and its contents with dpkg-deb.
include(${CMAKE_CURRENT_LIST_DIR}/run.cmake)

file(REMOVE_RECURSE ${WORK})
run(cpack -G DEB --config ${BUILD}/CPackConfig.cmake -B ${WORK})
set(deb ${WORK}/ember_${VERSION}_amd64.deb)
if(NOT EXISTS ${deb})
  file(GLOB made ${WORK}/*.deb)
  message(FATAL_ERROR "no ${deb}; CPack made: ${made}")
endif()
run(dpkg-deb -f ${deb} Package Version Architecture Depends)
foreach(want "Package: ember" "Version: ${VERSION}" "Architecture: amd64" "libopenblas0-openmp" "libdnnl2"
             "libgomp1" "zlib1g" "libmlir-19" "libllvm19")
  string(FIND "${out}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the .deb's control fields lack '${want}':\n${out}")
  endif()
endforeach()
run(dpkg-deb -c ${deb})
foreach(want ./usr/lib/libember_runtime.so.0 ./usr/lib/libember_tracer.so.0 ./usr/lib/libember_compiler.so.0
             ./usr/include/ember/ember.h ./usr/include/ember/jit/jit.h ./usr/lib/cmake/ember/emberConfig.cmake
             ./usr/lib/pkgconfig/ember.pc ./usr/bin/ember-opt ./usr/bin/ember-compile ./usr/bin/ember-bench)
  string(FIND "${out}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the .deb has no ${want}:\n${out}")
  endif()
endforeach()
string(FIND "${out}" "/kernels/" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "the .deb installs kernels/ internals:\n${out}")
endif()
message(STATUS "${deb}: ${out}")
