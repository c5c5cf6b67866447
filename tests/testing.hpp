// Include this instead of <doctest/doctest.h>: LibTorch's logging pulls in
// glog, whose CHECK* macros would silently replace doctest's. Including it
// first and removing them keeps every CHECK a doctest assertion.
#pragma once
#include <c10/util/Logging.h>
#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LT
#undef CHECK_LE
#undef CHECK_GT
#undef CHECK_GE
#include <doctest/doctest.h>
