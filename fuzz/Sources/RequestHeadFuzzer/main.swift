import CFuzzDriver
import FuzzChecks
import Glibc

/// libFuzzer's entry: one input per call. `RequestHeadChecks` traps when a property fails,
/// so that libFuzzer writes the input out as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    RequestHeadChecks.check(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

// SwiftPM gives the executable this main; it hands the process to libFuzzer's driver.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
