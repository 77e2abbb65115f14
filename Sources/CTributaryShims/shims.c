#include "tributary_shims.h"

#include <librdkafka/rdkafka.h>

int tributary_rd_produce(void *rk, const char *topic, int32_t partition, const void *key, size_t key_size,
                         const void *value, size_t value_size, const char *const *header_names,
                         const void *const *header_values, const size_t *header_sizes, size_t header_count) {
    rd_kafka_headers_t *headers = NULL;
    rd_kafka_resp_err_t err;

    if (header_count > 0) {
        headers = rd_kafka_headers_new(header_count);
        for (size_t i = 0; i < header_count; i++) {
            err = rd_kafka_header_add(headers, header_names[i], -1, header_values[i],
                                      header_values[i] ? (ssize_t)header_sizes[i] : 0);
            if (err) {
                rd_kafka_headers_destroy(headers);
                return (int)err;
            }
        }
    }

    if (headers) {
        err = rd_kafka_producev((rd_kafka_t *)rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_size),
                                RD_KAFKA_V_VALUE((void *)value, value_size), RD_KAFKA_V_HEADERS(headers),
                                RD_KAFKA_V_END);
        /* On success librdkafka owns the headers; on failure they are still ours. */
        if (err)
            rd_kafka_headers_destroy(headers);
    } else {
        err = rd_kafka_producev((rd_kafka_t *)rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_size),
                                RD_KAFKA_V_VALUE((void *)value, value_size), RD_KAFKA_V_END);
    }
    return (int)err;
}
