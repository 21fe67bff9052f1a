# onnxc_add_model(TARGET MODEL.onnx [NAME prefix] [INPUT_SHAPE name=d0,d1,...]...
#                 [MCPU cpu] [TARGET_TRIPLE triple] [OPT 0|1|2|3] [OUTPUT_DIR dir])
#
# Compiles an ONNX model with onnxc at BUILD time (add_custom_command) into
# <OUTPUT_DIR>/<prefix>.o and <prefix>.h (OUTPUT_DIR defaults to
# ${CMAKE_CURRENT_BINARY_DIR}/onnxc_<TARGET>) and defines TARGET, a STATIC
# library holding that object, whose include directory is the header's folder
# and which links libm.  Link it and #include "<prefix>.h":
#
#   onnxc_add_model(net_model net.onnx NAME net MCPU native)
#   target_link_libraries(app PRIVATE net_model)
#
# NAME defaults to TARGET (made a C identifier), MCPU to onnxc's default
# (native: the build machine's CPU; pass a CPU name when cross-building or
# shipping binaries), OPT to 3.  The onnxc executable is the imported target
# onnxc::onnxc (find_package(onnxc)) or, inside onnxc's own build, onnxc.
# Documented in docs/ABI.md.
include_guard(GLOBAL)

function(onnxc_add_model target model)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "" "NAME;MCPU;TARGET_TRIPLE;OPT;OUTPUT_DIR" "INPUT_SHAPE")
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
  if(ARG_NAME)
    set(name "${ARG_NAME}")
  else()
    string(MAKE_C_IDENTIFIER "${target}" name)
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "onnxc_add_model(${target}): NAME '${name}' is not a C identifier")
  endif()
  if(ARG_OUTPUT_DIR)
    set(dir "${ARG_OUTPUT_DIR}")
  else()
    set(dir "${CMAKE_CURRENT_BINARY_DIR}/onnxc_${target}")
  endif()
  set(flags --name ${name})
  foreach(shape IN LISTS ARG_INPUT_SHAPE)
    list(APPEND flags --input-shape ${shape})
  endforeach()
  if(ARG_MCPU)
    list(APPEND flags -mcpu=${ARG_MCPU})
  endif()
  if(ARG_TARGET_TRIPLE)
    list(APPEND flags --target ${ARG_TARGET_TRIPLE})
  endif()
  if(DEFINED ARG_OPT)
    list(APPEND flags -O${ARG_OPT})
  endif()
  set(obj "${dir}/${name}.o")
  set(hdr "${dir}/${name}.h")
  add_custom_command(
    OUTPUT "${obj}" "${hdr}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${dir}"
    COMMAND ${exe} compile "${model}" -o "${obj}" --header "${hdr}" ${flags}
    DEPENDS "${model}" ${exe}
    COMMENT "onnxc compile ${model} -> ${name}.o, ${name}.h"
    VERBATIM)
  set_source_files_properties("${obj}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_custom_target(${target}_onnxc DEPENDS "${obj}" "${hdr}")
  add_library(${target} STATIC "${obj}")
  add_dependencies(${target} ${target}_onnxc)
  set_target_properties(${target} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${target} INTERFACE "${dir}")
  target_link_libraries(${target} INTERFACE m)
endfunction()
