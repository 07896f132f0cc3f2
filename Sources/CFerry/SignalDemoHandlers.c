#include "SignalDemoHandlers.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

static volatile sig_atomic_t signal_count = 0;
static volatile sig_atomic_t self_pipe_write_fd = -1;

void ferry_demo_count_signal(int signal) {
    (void)signal;
    // No lost update: the kernel blocks this signal while its handler runs.
    signal_count = signal_count + 1;
}

int ferry_demo_signal_count(void) {
    return signal_count;
}

void ferry_demo_set_self_pipe(int write_fd) {
    self_pipe_write_fd = write_fd;
}

void ferry_demo_write_self_pipe(int signal) {
    (void)signal;
    int saved_errno = errno;
    char byte = 'x';
    (void)write(self_pipe_write_fd, &byte, 1);
    errno = saved_errno;
}
