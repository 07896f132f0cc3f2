#ifndef CFUZZDRIVER_H
#define CFUZZDRIVER_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (compiler-rt FuzzerDriver.cpp), linked by -sanitize=fuzzer: it
// parses libFuzzer's flags from argv and runs the fuzzing loop, calling `callback`
// with each input. Every SwiftPM executable gets a `main` of its own, so libFuzzer's
// `main` is never linked; a fuzzer's main.swift calls this instead.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
