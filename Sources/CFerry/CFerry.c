#define _GNU_SOURCE
#include "CFerry.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/eventfd.h>
#include <sched.h>

ssize_t ferry_send_fds(int channel, const int *fds, int count, const void *data, size_t len) {
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int) * FERRY_MAX_PASSED_FDS)];
        struct cmsghdr align;
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (count < 0 || count > FERRY_MAX_PASSED_FDS) {
        errno = EINVAL;
        return -1;
    }
    if (count > 0) {
        memset(&control, 0, CMSG_SPACE(sizeof(int) * count));
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
    }
    ssize_t n;
    do {
        n = sendmsg(channel, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
}

ssize_t ferry_recv_fds(int channel, int *fds_out, int max_fds, int *count_out, int *truncated,
                       void *data, size_t len) {
    struct iovec iov = { .iov_base = data, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int) * FERRY_MAX_PASSED_FDS)];
        struct cmsghdr align;
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (max_fds > FERRY_MAX_PASSED_FDS) max_fds = FERRY_MAX_PASSED_FDS;
    if (max_fds > 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * max_fds);
    }
    *count_out = 0;
    *truncated = 0;
    ssize_t n;
    do {
        n = recvmsg(channel, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    *truncated = (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0;
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cmsg) + sizeof(int) * i, sizeof(int));
            if (*count_out < max_fds) {
                fds_out[(*count_out)++] = fd;
            } else {
                close(fd);
            }
        }
    }
    return n;
}

ssize_t ferry_send_fd(int channel, int fd, const void *data, size_t len) {
    return ferry_send_fds(channel, &fd, fd >= 0 ? 1 : 0, data, len);
}

ssize_t ferry_recv_fd(int channel, int *fd_out, void *data, size_t len) {
    int count, truncated;
    ssize_t n = ferry_recv_fds(channel, fd_out, 1, &count, &truncated, data, len);
    if (n < 0 || count == 0) *fd_out = -1;
    return n;
}

int ferry_accept(int listener, void *addr, uint32_t *len, int nonblocking) {
    int flags = SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
    int fd;
    do {
        fd = accept4(listener, (struct sockaddr *)addr, (socklen_t *)len, flags);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

long long ferry_tcp_segments_out(int fd) {
    struct tcp_info info;
    socklen_t len = sizeof(info);
    memset(&info, 0, sizeof(info));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0) return -1;
    return (long long)info.tcpi_segs_out;
}

int ferry_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event = { .events = events, .data.u64 = data };
    return epoll_ctl(epfd, op, fd, &event);
}

int ferry_epoll_wait(int epfd, ferry_epoll_event *events, int max_events, int timeout_ms) {
    struct epoll_event raw[256];
    if (max_events > 256) max_events = 256;
    int n = epoll_wait(epfd, raw, max_events, timeout_ms);
    for (int i = 0; i < n; i++) {
        events[i].events = raw[i].events;
        events[i].data = raw[i].data.u64;
    }
    return n;
}

int ferry_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = flags;
    how.resolve = resolve;
    long fd;
    do {
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    } while (fd < 0 && errno == EINTR);
    return (int)fd;
#else
    (void)dirfd; (void)path; (void)flags; (void)resolve;
    errno = ENOSYS;
    return -1;
#endif
}

int ferry_set_parent_death_signal(int sig) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0, 0, 0);
}

int ferry_get_parent_death_signal(void) {
    int sig = 0;
    if (prctl(PR_GET_PDEATHSIG, (unsigned long)&sig, 0, 0, 0) != 0) return -1;
    return sig;
}

int ferry_set_process_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

int ferry_sched_batch(void) { return SCHED_BATCH; }

void ferry_fd_zero(void *set) { FD_ZERO((fd_set *)set); }
void ferry_fd_set(int fd, void *set) { FD_SET(fd, (fd_set *)set); }
void ferry_fd_clr(int fd, void *set) { FD_CLR(fd, (fd_set *)set); }
int ferry_fd_isset(int fd, const void *set) { return FD_ISSET(fd, (const fd_set *)set); }
int ferry_fd_setsize(void) { return FD_SETSIZE; }

int ferry_dup_onto(int source, int target) {
    int fd;
    do {
        fd = dup3(source, target, O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

long long ferry_filesystem_type(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    return (long long)info.f_type;
}

ssize_t ferry_pread_cached(int fd, void *buffer, size_t length, long long offset) {
    struct iovec iov = { .iov_base = buffer, .iov_len = length };
    ssize_t n;
    do {
        n = preadv2(fd, &iov, 1, (off_t)offset, RWF_NOWAIT);
    } while (n < 0 && errno == EINTR);
    return n;
}

int ferry_eventfd(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}
