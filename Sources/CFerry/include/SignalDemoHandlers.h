// The signal handlers of the selsigrace, selfpipe and pselect demos. They are C
// because a handler may only write a `volatile sig_atomic_t` and make
// async-signal-safe calls (signal-safety(7)); Swift cannot promise that: even a
// global's increment calls the exclusivity-checking runtime. Swift installs them
// with sigaction(2) and runs everything else.
#ifndef FERRY_SIGNAL_DEMO_HANDLERS_H
#define FERRY_SIGNAL_DEMO_HANDLERS_H

/// Handler: counts its runs (the seed's GOT_SIGNAL flag, as a count).
void ferry_demo_count_signal(int signal);

/// How many times ferry_demo_count_signal has run.
int ferry_demo_signal_count(void);

/// Sets the self-pipe's write end that ferry_demo_write_self_pipe writes to.
void ferry_demo_set_self_pipe(int write_fd);

/// Handler: writes one byte to the self-pipe and leaves errno as it found it. The
/// pipe is non-blocking: when it is full the write fails with EAGAIN, which is
/// fine, since a byte is already waiting.
void ferry_demo_write_self_pipe(int signal);

#endif
