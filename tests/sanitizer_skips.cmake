# Tests that cannot run under a sanitizer, each with its reason. ctest includes this file in sanitizer build
# directories (CMakeLists.txt) after the tests are defined; `make test-asan` runs `ctest -LE no_asan`, `make
# test-tsan` `ctest -L 'cg_(supervisor|sweep)_test' -LE no_tsan`. A skipped test is listed in ctest's label
# summary, never dropped silently. set_tests_properties replaces LABELS: give the test binary's label too.
#   cg_sanitizer_skip(NO_LABEL BINARY TEST REASON)
function(cg_sanitizer_skip no_label binary test reason)
  if(no_label STREQUAL "no_asan" AND "$ENV{CRASHGRID_SANITIZER}" MATCHES "address|undefined")
    set_tests_properties(${test} PROPERTIES LABELS "${binary};${no_label}")
  elseif(no_label STREQUAL "no_tsan" AND "$ENV{CRASHGRID_SANITIZER}" STREQUAL "thread")
    set_tests_properties(${test} PROPERTIES LABELS "${binary};${no_label}")
  endif()
endfunction()

# make test-tsan builds the two test binaries only, not the crashgrid binary this test reads the build-id of
# (building it would add all of crashgrid's workloads and reports to CI's ThreadSanitizer step).
cg_sanitizer_skip(no_tsan cg_sweep_test ProgramFingerprint.AnElfProgramIsItsBuildIdAsReadelfReadsIt
                  "needs build-tsan/crashgrid, which test-tsan does not build")
