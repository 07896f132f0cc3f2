// The target only declares libFuzzer's LLVMFuzzerRunDriver (include/CFuzzDriver.h);
// SwiftPM needs a source file for a C target.
#include "CFuzzDriver.h"
