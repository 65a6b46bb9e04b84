# Writes build_info.inc (version, git commit, build date) for version.cc.
# Run at every build; the file is rewritten only when its content changes,
# so a build with nothing new compiles nothing.
find_package(Git QUIET)
set(commit "unknown")
set(dirty "")
if(GIT_FOUND AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0)
    set(commit "unknown")
  endif()
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} status --porcelain
                                            --untracked-files=no
                  OUTPUT_VARIABLE status RESULT_VARIABLE rc ERROR_QUIET)
  if(rc EQUAL 0 AND NOT status STREQUAL "")
    set(dirty "-dirty")
  endif()
endif()
# Day resolution: a build date that changes at most once a day.
string(TIMESTAMP date "%Y-%m-%d" UTC)
set(content "#define BANGER_VERSION \"${VERSION}\"\n#define BANGER_COMMIT \"${commit}${dirty}\"\n#define BANGER_BUILD_DATE \"${date}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
else()
  set(old "")
endif()
if(NOT old STREQUAL content)
  file(WRITE "${OUT}" "${content}")
endif()
