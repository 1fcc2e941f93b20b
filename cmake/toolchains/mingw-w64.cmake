# Cross-compiling for 64-bit Windows with Debian's mingw-w64 (posix threads) and running the
# results under wine:
#   apt-get install g++-mingw-w64-x86-64-posix wine64 wine      (scripts/deps.sh does it)
#   cmake --preset windows && cmake --build --preset windows && ctest --preset windows
# The posix threading variant is needed: GCC 12's win32 variant has no std::thread/std::mutex.
# Wine is not Windows: green there means "very likely works", not "proven".
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(mingw_triplet x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${mingw_triplet}-gcc-posix)
set(CMAKE_CXX_COMPILER ${mingw_triplet}-g++-posix)
set(CMAKE_RC_COMPILER ${mingw_triplet}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${mingw_triplet})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static libstdc++/libgcc/winpthread: otherwise wine cannot find their DLLs next to the exe.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Every test exe runs through wine, in a private prefix inside the build tree (made at configure
# time by cmake/windows_cross.cmake, ~7 s, so that parallel tests do not race to create it).
# WINEDEBUG=-all silences wine's own diagnostics; the DLL overrides skip the Mono/Gecko prompts.
if(NOT DEFINED OPENSOCKET_WINEPREFIX)
  set(OPENSOCKET_WINEPREFIX "${CMAKE_BINARY_DIR}/wine-prefix")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR
    env WINEDEBUG=-all WINEPREFIX=${OPENSOCKET_WINEPREFIX} WINEDLLOVERRIDES=mscoree,mshtml= wine)
