// The few Linux interfaces Swift cannot call directly: the CMSG macros behind
// SCM_RIGHTS, packed epoll events, accept4, openat2 (no glibc wrapper), the full
// struct tcp_info and variadic calls (prctl). Each is a plain function here.
//
// Do not define _GNU_SOURCE in this header: it changes fd_set and breaks the
// module against SwiftGlibc. The .c file defines it for itself. Nor include
// <sys/socket.h> or <sys/select.h> here: their constants (SOCK_*, SHUT_*, fd_set)
// would then belong to this module as well as to Glibc, and Swift files that do not
// import CFerry stop finding them in some build orders. Pointers to those types
// travel as void * instead.
#ifndef CFERRY_H
#define CFERRY_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <linux/openat2.h>

// MARK: descriptor passing (SCM_RIGHTS)

/// The most descriptors one SCM_RIGHTS message carries (the kernel's SCM_MAX_FD).
#define FERRY_MAX_PASSED_FDS 253

/// Sends `len` bytes of `data` and the `count` descriptors `fds` (at most
/// FERRY_MAX_PASSED_FDS) in one message. Returns bytes sent or -1 with errno set.
ssize_t ferry_send_fds(int channel, const int *fds, int count, const void *data, size_t len);

/// Receives one message into `data` and up to `max_fds` passed descriptors (opened
/// close-on-exec) into `fds_out`, their number in `*count_out`. `*truncated` is set
/// when the kernel cut the message or its descriptors short (MSG_TRUNC, MSG_CTRUNC:
/// a receiver out of descriptors loses those it could not take). Returns bytes
/// received, 0 at end of stream, or -1 with errno set.
ssize_t ferry_recv_fds(int channel, int *fds_out, int max_fds, int *count_out, int *truncated,
                       void *data, size_t len);

/// Sends `len` bytes of `data` and, when `fd` >= 0, the descriptor `fd` as ancillary
/// data in one message. Returns bytes sent or -1 with errno set.
ssize_t ferry_send_fd(int channel, int fd, const void *data, size_t len);

/// Receives one message into `data`; a passed descriptor (opened close-on-exec)
/// is stored in `*fd_out`, else -1. Returns bytes received, 0 at end of stream,
/// or -1 with errno set.
ssize_t ferry_recv_fd(int channel, int *fd_out, void *data, size_t len);

// MARK: sockets

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC when `nonblocking`, else only CLOEXEC.
/// `addr` is a struct sockaddr *, `len` a socklen_t *.
int ferry_accept(int listener, void *addr, uint32_t *len, int nonblocking);

/// Segments the kernel has sent on a TCP socket (tcpi_segs_out). -1 on error.
long long ferry_tcp_segments_out(int fd);

// MARK: epoll without the packed struct

typedef struct {
    uint32_t events;
    uint64_t data;
} ferry_epoll_event;

int ferry_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int ferry_epoll_wait(int epfd, ferry_epoll_event *events, int max_events, int timeout_ms);

// MARK: select(2) descriptor sets (FD_* are macros Swift cannot call; `set` is an fd_set *)

void ferry_fd_zero(void *set);
/// Only for fd < FD_SETSIZE: a larger one would write past the set (h2o#287).
void ferry_fd_set(int fd, void *set);
void ferry_fd_clr(int fd, void *set);
int ferry_fd_isset(int fd, const void *set);
int ferry_fd_setsize(void);

// MARK: files

/// openat2(2) with `resolve` flags (RESOLVE_BENEATH ...). -1 with errno set;
/// ENOSYS where the kernel lacks it.
int ferry_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);

/// preadv2(2) with RWF_NOWAIT: reads only what is in the page cache. -1 with errno
/// EAGAIN when the first byte would have to come from the disk; a short count when
/// a later part would.
ssize_t ferry_pread_cached(int fd, void *buffer, size_t length, long long offset);

/// eventfd(2), non-blocking and close-on-exec, starting at 0. -1 with errno set.
int ferry_eventfd(void);

/// statfs(2)'s f_type of the file system holding `path` (its magic number), or -1
/// with errno set.
long long ferry_filesystem_type(const char *path);

// MARK: processes

/// prctl(PR_SET_PDEATHSIG, sig): the kernel sends `sig` when the parent dies.
int ferry_set_parent_death_signal(int sig);
/// prctl(PR_GET_PDEATHSIG): the signal set, 0 for none, -1 on error.
int ferry_get_parent_death_signal(void);

/// prctl(PR_SET_NAME, name): the name `ps` and `top` show (15 bytes at most).
int ferry_set_process_name(const char *name);

/// dup3(2) with O_CLOEXEC, EINTR looped: puts `source`'s open file behind `target`'s
/// number in one step (glibc declares dup3 only under _GNU_SOURCE).
int ferry_dup_onto(int source, int target);

/// SCHED_BATCH, which <sched.h> defines only under _GNU_SOURCE.
int ferry_sched_batch(void);

#include "SignalDemoHandlers.h"
#include "Measurement.h"

#endif
