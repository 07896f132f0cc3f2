#define _GNU_SOURCE
#include "Measurement.h"

#include <string.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <sys/socket.h>

void ferry_counter_add(int64_t *counter, int64_t delta) {
    __atomic_add_fetch(counter, delta, __ATOMIC_SEQ_CST);
}

int64_t ferry_counter_load(const int64_t *counter) {
    return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}

int ferry_tcp_send_state_read(int fd, ferry_tcp_send_state *state) {
    struct tcp_info info;
    socklen_t len = sizeof(info);
    memset(&info, 0, sizeof(info));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0) return -1;
    state->segments_out = info.tcpi_segs_out;
    state->bytes_sent = info.tcpi_bytes_sent;
    state->bytes_acked = info.tcpi_bytes_acked;
    state->not_sent_bytes = info.tcpi_notsent_bytes;
    state->unacked_segments = info.tcpi_unacked;
    return 0;
}
