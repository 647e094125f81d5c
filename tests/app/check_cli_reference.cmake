# ctest app_cli_reference_up_to_date: docs/cli-reference.md must be what
# tools/gen-cli-reference.sh writes for the built stc.
#   cmake -DBASH=... -DSTC_EXE=... -DSCRIPT=... -DDOC=... -P check_cli_reference.cmake
foreach(var BASH STC_EXE SCRIPT DOC)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_cli_reference.cmake: -D${var}=... not given")
  endif()
endforeach()
execute_process(COMMAND ${BASH} ${SCRIPT} ${STC_EXE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE generated ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${SCRIPT} ${STC_EXE} failed (exit ${rc}):\n${err}")
endif()
file(READ ${DOC} committed)
if(NOT generated STREQUAL committed)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/cli-reference.generated.md "${generated}")
  message(FATAL_ERROR
    "docs/cli-reference.md is out of date with stc's help texts.\n"
    "Regenerate it and commit the result:\n"
    "  bash tools/gen-cli-reference.sh ${STC_EXE} > docs/cli-reference.md\n"
    "(what stc prints now: ${CMAKE_CURRENT_BINARY_DIR}/cli-reference.generated.md;\n"
    " compare: diff -u docs/cli-reference.md ${CMAKE_CURRENT_BINARY_DIR}/cli-reference.generated.md)")
endif()
message(STATUS "docs/cli-reference.md matches ${STC_EXE}")
