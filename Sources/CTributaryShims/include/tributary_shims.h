#pragma once
/*
 * Tiny C helpers for what Swift cannot call directly:
 *  - librdkafka's variadic rd_kafka_producev() (one fixed-argument wrapper);
 *  - an accept()/accept4() interposer that sets TCP_NODELAY on accepted sockets, used only by the
 *    dev broker process that hosts librdkafka's mock cluster (the mock does not set it, so every
 *    multi-partition transaction would stall on Nagle + delayed ACK).
 *
 * librdkafka handles are passed as `void *` so this header does not include rdkafka.h a second time
 * (CRdKafka owns that header; KafkaSink converts its OpaquePointer handles).
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Produces one message with RD_KAFKA_MSG_F_COPY through rd_kafka_producev().
 *
 * key/value may be NULL (null key, tombstone). header_names/header_values/header_sizes hold
 * header_count headers (a NULL value pointer is a null header value). The headers are copied; on failure
 * nothing is leaked. Returns the rd_kafka_resp_err_t code (0 = enqueued).
 */
int tributary_rd_produce(void *rk, const char *topic, int32_t partition, const void *key, size_t key_size,
                         const void *value, size_t value_size, const char *const *header_names,
                         const void *const *header_values, const size_t *header_sizes, size_t header_count);

/** Enables (non-zero) or disables (0) TCP_NODELAY on sockets returned by accept()/accept4() in this process. */
void tributary_accept_nodelay_set_enabled(int enabled);

/** Whether the interposer is enabled. */
int tributary_accept_nodelay_enabled(void);

/** How many accepted sockets got TCP_NODELAY through the interposer since the process started. */
long tributary_accept_nodelay_count(void);

/** The last socket the interposer set TCP_NODELAY on, or -1. */
int tributary_accept_nodelay_last_fd(void);

#ifdef __cplusplus
}
#endif
