# onnxc_add_model(TARGET MODEL.onnx
#                 [NAME prefix] [OUTPUT_DIR dir]
#                 [INPUT_SHAPE name=d0,d1,...]...        (repeatable: one per dynamic input)
#                 [TARGET_TRIPLE triple] [MCPU cpu] [MATTR +feat,-feat,...]
#                 [OPT_LEVEL 0|1|2|3]                     (OPT is the same)
#                 [WEIGHTS file]                          (weights in a file, not in the object)
#                 [PROFILE]                               (also PREFIX_run_profiled)
#                 [EXTRA_ARGS arg...]                     (any other `onnxc compile` flags)
#                 [DEPENDS file...])                      (e.g. the model's external data)
#
# Compiles an ONNX model with onnxc at BUILD time (add_custom_command) into
# <OUTPUT_DIR>/<prefix>.o and <prefix>.h (OUTPUT_DIR defaults to
# ${CMAKE_CURRENT_BINARY_DIR}/onnxc_<TARGET>) and defines TARGET, a STATIC
# library holding that object, whose include directory is the header's folder
# and which links libm.  Link it and #include "<prefix>.h":
#
#   onnxc_add_model(net_model net.onnx NAME net MCPU x86-64-v3)
#   target_link_libraries(app PRIVATE net_model)
#
# NAME defaults to TARGET (made a C identifier), OPT_LEVEL to 3, MCPU to
# onnxc's default (native: the build machine's CPU; pass a CPU name when
# shipping binaries).  WEIGHTS: a relative path is in OUTPUT_DIR; the
# absolute path is the target's ONNXC_WEIGHTS_FILE property, for install()
# or for copying beside the program, which loads it for
# <prefix>_run_with_weights (docs/ABI.md).
#
# When CMake cross-compiles (a toolchain file), the host's onnxc compiles for
# the toolchain's target: TARGET_TRIPLE defaults to CMAKE_C_COMPILER_TARGET,
# else <CMAKE_SYSTEM_PROCESSOR>-linux-gnu, and MCPU to generic.
#
# The model is recompiled when the model, a DEPENDS file, onnxc or one of
# these options changes (the flags are kept in <OUTPUT_DIR>/<prefix>.flags,
# rewritten only when they differ), never otherwise.  The onnxc executable
# is the imported target onnxc::onnxc (find_package(onnxc)) or, inside
# onnxc's own build, onnxc.  Documented in docs/ABI.md.
include_guard(GLOBAL)

function(onnxc_add_model target model)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "PROFILE"
    "NAME;MCPU;MATTR;TARGET_TRIPLE;OPT;OPT_LEVEL;OUTPUT_DIR;WEIGHTS"
    "INPUT_SHAPE;EXTRA_ARGS;DEPENDS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "onnxc_add_model(${target}): unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(TARGET onnxc::onnxc)
    set(exe onnxc::onnxc)
  elseif(TARGET onnxc)
    set(exe onnxc)
  else()
    message(FATAL_ERROR "onnxc_add_model: no onnxc executable target; use find_package(onnxc)")
  endif()
  get_filename_component(model "${model}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "onnxc_add_model(${target}): no model at ${model}")
  endif()
  if(ARG_NAME)
    set(name "${ARG_NAME}")
  else()
    string(MAKE_C_IDENTIFIER "${target}" name)
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "onnxc_add_model(${target}): NAME '${name}' is not a C identifier")
  endif()
  if(ARG_OUTPUT_DIR)
    get_filename_component(dir "${ARG_OUTPUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  else()
    set(dir "${CMAKE_CURRENT_BINARY_DIR}/onnxc_${target}")
  endif()
  if(DEFINED ARG_OPT AND DEFINED ARG_OPT_LEVEL AND NOT ARG_OPT STREQUAL ARG_OPT_LEVEL)
    message(FATAL_ERROR "onnxc_add_model(${target}): OPT ${ARG_OPT} and OPT_LEVEL ${ARG_OPT_LEVEL} differ")
  endif()
  if(DEFINED ARG_OPT)
    set(ARG_OPT_LEVEL "${ARG_OPT}")
  endif()
  if(DEFINED ARG_OPT_LEVEL AND NOT ARG_OPT_LEVEL MATCHES "^[0-3]$")
    message(FATAL_ERROR "onnxc_add_model(${target}): OPT_LEVEL wants 0, 1, 2 or 3, got '${ARG_OPT_LEVEL}'")
  endif()
  if(CMAKE_CROSSCOMPILING)
    if(NOT ARG_TARGET_TRIPLE)
      if(CMAKE_C_COMPILER_TARGET)
        set(ARG_TARGET_TRIPLE "${CMAKE_C_COMPILER_TARGET}")
      else()
        set(ARG_TARGET_TRIPLE "${CMAKE_SYSTEM_PROCESSOR}-linux-gnu")
      endif()
    endif()
    if(NOT ARG_MCPU)
      set(ARG_MCPU generic)
    endif()
  endif()

  set(flags --name ${name})
  foreach(shape IN LISTS ARG_INPUT_SHAPE)
    list(APPEND flags --input-shape ${shape})
  endforeach()
  if(ARG_TARGET_TRIPLE)
    list(APPEND flags --target ${ARG_TARGET_TRIPLE})
  endif()
  if(ARG_MCPU)
    list(APPEND flags -mcpu=${ARG_MCPU})
  endif()
  if(ARG_MATTR)
    list(APPEND flags -mattr=${ARG_MATTR})
  endif()
  if(DEFINED ARG_OPT_LEVEL)
    list(APPEND flags -O${ARG_OPT_LEVEL})
  endif()
  if(ARG_PROFILE)
    list(APPEND flags --profile)
  endif()
  set(obj "${dir}/${name}.o")
  set(hdr "${dir}/${name}.h")
  set(outputs "${obj}" "${hdr}")
  if(ARG_WEIGHTS)
    get_filename_component(weights "${ARG_WEIGHTS}" ABSOLUTE BASE_DIR "${dir}")
    list(APPEND flags --weights=${weights})
    list(APPEND outputs "${weights}")
  endif()
  list(APPEND flags ${ARG_EXTRA_ARGS})
  set(deps "${model}")
  foreach(dep IN LISTS ARG_DEPENDS)
    get_filename_component(dep "${dep}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND deps "${dep}")
  endforeach()

  # Makefiles do not rerun a command whose text changed: the flags file does.
  set(flags_file "${dir}/${name}.flags")
  string(REPLACE ";" "\n" flags_text "${model}\n${flags}")
  file(CONFIGURE OUTPUT "${flags_file}" CONTENT "${flags_text}\n" @ONLY)

  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${exe} compile "${model}" -o "${obj}" --header "${hdr}" ${flags}
    DEPENDS ${deps} "${flags_file}" ${exe}
    COMMENT "onnxc compile ${model} -> ${name}.o, ${name}.h"
    VERBATIM)
  set_source_files_properties("${obj}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_custom_target(${target}_onnxc DEPENDS ${outputs})
  add_library(${target} STATIC "${obj}")
  add_dependencies(${target} ${target}_onnxc)
  set_target_properties(${target} PROPERTIES LINKER_LANGUAGE C)
  if(ARG_WEIGHTS)
    set_target_properties(${target} PROPERTIES ONNXC_WEIGHTS_FILE "${weights}")
  endif()
  target_include_directories(${target} INTERFACE "${dir}")
  target_link_libraries(${target} INTERFACE m)
endfunction()
