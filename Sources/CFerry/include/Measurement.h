// What the measuring demos (cork, sendfile, herd) read from the kernel or share
// between processes, where Swift cannot reach it directly.
#ifndef CFERRY_MEASUREMENT_H
#define CFERRY_MEASUREMENT_H

#include <stdint.h>

// MARK: counters in a MAP_SHARED mapping
// Swift has no atomic operation on memory it did not allocate itself; these wrap the
// compiler's __atomic builtins so processes sharing a mapping see whole, fresh values.

/// Adds `delta` to `*counter` atomically.
void ferry_counter_add(int64_t *counter, int64_t delta);

/// Reads `*counter` atomically.
int64_t ferry_counter_load(const int64_t *counter);

// MARK: a TCP sender's progress (struct tcp_info, which glibc's header lacks in full)

typedef struct {
    /// Segments sent, retransmissions and pure ACKs included (tcpi_segs_out).
    uint64_t segments_out;
    /// Payload bytes sent, retransmissions included (tcpi_bytes_sent).
    uint64_t bytes_sent;
    /// Payload bytes the peer has acknowledged (tcpi_bytes_acked).
    uint64_t bytes_acked;
    /// Bytes written by the application but not yet sent (tcpi_notsent_bytes).
    uint32_t not_sent_bytes;
    /// Segments sent and not yet acknowledged (tcpi_unacked).
    uint32_t unacked_segments;
} ferry_tcp_send_state;

/// Fills `*state` from TCP_INFO. 0, or -1 with errno set.
int ferry_tcp_send_state_read(int fd, ferry_tcp_send_state *state);

#endif
