# install.cmake - what `cmake --install build --prefix P` puts under P, and
# the .deb (`cpack -G DEB` in the build folder) made from the same tree:
#
#   P/include/ember/...            the public headers (no kernels/ internals)
#   P/lib/libember_{runtime,tracer,compiler,distributed}.so.0
#   P/lib/cmake/ember/             emberConfig.cmake: ember::runtime, ember::tracer, ember::compiler,
#                                  ember::distributed
#   P/lib/pkgconfig/               ember.pc (runtime + tracer), ember-compiler.pc
#   P/bin/                         ember-opt, ember-compile, ember-bench
#   P/lib/python3/dist-packages/ember   the Python package (import ember)
include(CMakePackageConfigHelpers)

set(EMBER_INSTALL_TARGETS ember_runtime ember_tracer)
if(EMBER_COMPILER)
  list(APPEND EMBER_INSTALL_TARGETS ember_compiler)
endif()
if(EMBER_DISTRIBUTED)
  list(APPEND EMBER_INSTALL_TARGETS ember_distributed)
endif()
install(TARGETS ${EMBER_INSTALL_TARGETS} EXPORT emberTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(EMBER_COMPILER)
  install(TARGETS ember-opt ember-compile ember-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
endif()

# Public headers: the runtime's API folders, the generated API, the tracer,
# and the compiler's two entry points (jit.h, export.h) with what they include.
foreach(folder "" autograd nn optim data serialize)
  file(GLOB headers ${PROJECT_SOURCE_DIR}/runtime/ember/${folder}/*.h)
  install(FILES ${headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ember/${folder} COMPONENT dev)
endforeach()
install(FILES ${EMBER_GENERATED_DIR}/ember/api.h ${EMBER_GENERATED_DIR}/ember/ops.def
              ${EMBER_GENERATED_DIR}/ember/op_attrs.h ${EMBER_GENERATED_DIR}/ember/tensor_methods.inc
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ember COMPONENT dev)
if(EMBER_DISTRIBUTED)
  file(GLOB distributed_headers ${PROJECT_SOURCE_DIR}/distributed/ember/distributed/*.h)
  install(FILES ${distributed_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ember/distributed COMPONENT dev)
endif()
file(GLOB tracer_headers ${PROJECT_SOURCE_DIR}/tracer/ember/tracer/*.h)
install(FILES ${tracer_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ember/tracer COMPONENT dev)
if(EMBER_COMPILER)
  install(FILES ${PROJECT_SOURCE_DIR}/compiler/ember/jit/jit.h ${PROJECT_SOURCE_DIR}/compiler/ember/jit/export.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ember/jit COMPONENT dev)
  install(FILES ${PROJECT_SOURCE_DIR}/compiler/ember/compiler/CompiledGraph.h
                ${PROJECT_SOURCE_DIR}/compiler/ember/compiler/CompileBudget.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ember/compiler COMPONENT dev)
endif()

# The CMake package.
set(EMBER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ember)
install(EXPORT emberTargets NAMESPACE ember:: DESTINATION ${EMBER_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/emberConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/emberConfig.cmake INSTALL_DESTINATION ${EMBER_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/emberConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/emberConfig.cmake ${PROJECT_BINARY_DIR}/emberConfigVersion.cmake
        DESTINATION ${EMBER_CMAKE_DIR} COMPONENT dev)

# pkg-config: ember (eager: runtime and tracer) and ember-compiler.
set(EMBER_PC_LIBDIR ${CMAKE_INSTALL_LIBDIR})
set(EMBER_PC_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/ember.pc.in ${PROJECT_BINARY_DIR}/ember.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ember.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
if(EMBER_COMPILER)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/ember-compiler.pc.in ${PROJECT_BINARY_DIR}/ember-compiler.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/ember-compiler.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endif()

# The .deb: one package (libraries, tools, headers, CMake and pkg-config
# files), depending on the Debian packages ember loads at run time.
set(CPACK_PACKAGE_NAME ember)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ember developers <ember@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ember: a C++ deep-learning framework, eager and compiled through MLIR")
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ember_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(EMBER_DEB_DEPENDS "libopenblas0-openmp, libdnnl2, libgomp1, zlib1g, libstdc++6")
if(EMBER_COMPILER)
  string(APPEND EMBER_DEB_DEPENDS ", libmlir-19, libllvm19")
endif()
if(EMBER_DISTRIBUTED)
  string(APPEND EMBER_DEB_DEPENDS ", libopenmpi3")
endif()
if(EMBER_PYTHON)  # the package under /usr/lib/python3/dist-packages; numpy only for numpy views
  string(APPEND EMBER_DEB_DEPENDS ", python3 (>= 3.11), python3 (<< 3.12)")
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3-numpy")
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS ${EMBER_DEB_DEPENDS})
include(CPack)
