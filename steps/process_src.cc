// The separately compiled part of Boost.Process v2 (the project defines
// BOOST_PROCESS_V2_SEPARATE_COMPILATION): exactly one file includes src.hpp.
#include "steps/boost_process.h"

#include <boost/process/v2/src.hpp>
