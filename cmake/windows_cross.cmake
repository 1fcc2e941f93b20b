# Dependencies of the Windows cross build (cmake/toolchains/mingw-w64.cmake), included by the top
# level right after project(). Debian has no mingw builds of fmt or GoogleTest, so:
# - fmt: header-only (FMT_HEADER_ONLY) from /usr/include/fmt, through an include directory that
#   exposes only fmt/ (adding -I/usr/include itself would pull glibc headers into mingw builds);
# - GoogleTest: built from Debian's sources in /usr/src/googletest;
# - no liburing (Linux only), no Google benchmark (the windows preset turns bench off), no Python
#   integration tests (they drive the examples as Linux processes).
# find_package(fmt) and find_package(GTest) elsewhere then resolve to the targets made here,
# through CMake's package redirects (3.24+).

set(CMAKE_DISABLE_FIND_PACKAGE_PkgConfig TRUE)  # a host liburing.pc must not be picked up
set(CMAKE_DISABLE_FIND_PACKAGE_Python3 TRUE)    # integration tests are left out

# fmt, header-only.
set(fmt_include ${CMAKE_BINARY_DIR}/fmt-include)
if(NOT EXISTS ${fmt_include}/fmt/format.h)
  if(NOT EXISTS /usr/include/fmt/format.h)
    message(FATAL_ERROR "fmt headers not found in /usr/include/fmt (apt-get install libfmt-dev)")
  endif()
  file(MAKE_DIRECTORY ${fmt_include})
  file(CREATE_LINK /usr/include/fmt ${fmt_include}/fmt SYMBOLIC)
endif()
add_library(fmt::fmt INTERFACE IMPORTED GLOBAL)
set_target_properties(fmt::fmt PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES ${fmt_include}
  INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
file(WRITE ${CMAKE_FIND_PACKAGE_REDIRECTS_DIR}/fmt-config.cmake
     "# fmt::fmt is made by cmake/windows_cross.cmake\n")

# GoogleTest, from source (only what the tests link is built).
if(OPENSOCKET_BUILD_TESTS)
  set(gtest_force_shared_crt ON CACHE BOOL "" FORCE)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL SYSTEM)
  file(WRITE ${CMAKE_FIND_PACKAGE_REDIRECTS_DIR}/gtest-config.cmake
       "# GTest::gtest and GTest::gtest_main are made by cmake/windows_cross.cmake\n")
endif()

# std::latch, std::counting_semaphore and std::atomic::wait: GCC 12's libstdc++ has no futex on
# Windows and falls back to a mutex and condition variable in bits/atomic_wait.h, where the waiter
# checks the value before taking the mutex and the notifier signals without it; a notification in
# between is lost and the waiter sleeps forever (seen here: about one std::latch in 20000 across
# two threads hangs, under wine). OpenSocket's sync_wait_on, run_on_each_executor and tests use
# them. Until the toolchain is fixed, the build uses a copy of that header with the check moved
# under the mutex and the notification made under it (a toolchain without the faulty text is
# left alone).
execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE gcc_include OUTPUT_STRIP_TRAILING_WHITESPACE)
file(GLOB atomic_wait_h "${gcc_include}/c++/bits/atomic_wait.h")
if(atomic_wait_h)
  file(READ ${atomic_wait_h} text)
  set(bad_wait [=[
	__platform_wait_t __val;
	__atomic_load(__addr, &__val, __ATOMIC_SEQ_CST);
	if (__val == __old)
	  {
	    lock_guard<mutex> __l(_M_mtx);
	    _M_cv.wait(_M_mtx);
	  }]=])
  set(good_wait [=[
	__platform_wait_t __val;
	lock_guard<mutex> __l(_M_mtx);  // OpenSocket: check under the mutex (cmake/windows_cross.cmake)
	__atomic_load(__addr, &__val, __ATOMIC_SEQ_CST);
	if (__val == __old)
	  _M_cv.wait(_M_mtx);]=])
  set(bad_notify [=[
#else
	if (__all)
	  _M_cv.notify_all();]=])
  set(good_notify [=[
#else
	lock_guard<mutex> __l(_M_mtx);  // OpenSocket: notify under the mutex
	if (__all)
	  _M_cv.notify_all();]=])
  string(FIND "${text}" "${bad_wait}" at_wait)
  string(FIND "${text}" "${bad_notify}" at_notify)
  if(at_wait GREATER -1 AND at_notify GREATER -1)
    string(REPLACE "${bad_wait}" "${good_wait}" text "${text}")
    string(REPLACE "${bad_notify}" "${good_notify}" text "${text}")
    file(WRITE ${CMAKE_BINARY_DIR}/libstdcxx-fix/bits/atomic_wait.h "${text}")
    include_directories(BEFORE SYSTEM ${CMAKE_BINARY_DIR}/libstdcxx-fix)
    message(STATUS "libstdc++ atomic wait: using the lost-wake-up fix (${atomic_wait_h})")
  endif()
endif()

# The wine prefix the tests run in (see the toolchain file), made once here.
if(OPENSOCKET_WINEPREFIX AND NOT EXISTS ${OPENSOCKET_WINEPREFIX}/system.reg)
  message(STATUS "Creating the wine prefix ${OPENSOCKET_WINEPREFIX}")
  execute_process(
    COMMAND env WINEDEBUG=-all WINEPREFIX=${OPENSOCKET_WINEPREFIX}
            WINEDLLOVERRIDES=mscoree,mshtml= wineboot --init
    RESULT_VARIABLE wineboot_rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT wineboot_rc EQUAL 0)
    message(WARNING "wineboot failed (${wineboot_rc}): the tests cannot run under wine")
  endif()
endif()
