// The one way runbook includes Boost.Process v2 (private to steps/process_*.cc;
// never include it from a header). Boost 1.81 Process v2 uses
// boost::filesystem unless BOOST_PROCESS_USE_STD_FS is set, and Debian ships
// no Boost.Filesystem 1.81 library to link; in std::filesystem mode its
// headers forget two includes, supplied here. Every translation unit that
// includes Process v2 must agree on this (ODR), hence this header; better
// still, define BOOST_PROCESS_USE_STD_FS globally in CMakeLists.txt.
#pragma once

#ifndef BOOST_PROCESS_USE_STD_FS
#define BOOST_PROCESS_USE_STD_FS 1
#endif

#include <boost/optional.hpp>
#include <boost/type_traits.hpp>
