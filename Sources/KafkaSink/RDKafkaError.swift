internal import CRdKafka

/// Copies librdkafka error state (`rd_kafka_error_t`, `rd_kafka_resp_err_t`, `rd_kafka_fatal_error`) into
/// `KafkaSinkError` at the C boundary.
enum RDKafkaError {
    /// Codes that mean another producer with the same `transactional.id` took over: librdkafka's local
    /// `_FENCED` and the broker's `PRODUCER_FENCED` / `INVALID_PRODUCER_EPOCH` (KIP-360, KIP-588).
    static let fencedCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR__FENCED.rawValue,
        RD_KAFKA_RESP_ERR_PRODUCER_FENCED.rawValue,
        RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH.rawValue,
    ]

    static let fencedMessage =
        "producer fenced: another agent with the same transactional.id took over; this agent must stop"

    /// `rd_kafka_err2name`.
    static func name(_ code: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2name(code))
    }

    /// `rd_kafka_err2str`.
    static func describe(_ code: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2str(code))
    }

    /// Converts and destroys an `rd_kafka_error_t *` returned by the transactional or admin API.
    static func take(
        _ error: OpaquePointer, operation: String, client: RDKafkaClient?, file: String = #fileID, line: Int = #line
    ) -> KafkaSinkError {
        defer { rd_kafka_error_destroy(error) }
        let code = rd_kafka_error_code(error)
        let message = rd_kafka_error_string(error).map { String(cString: $0) } ?? describe(code)
        let isFatal = rd_kafka_error_is_fatal(error) != 0
        let isRetriable = rd_kafka_error_is_retriable(error) != 0
        let requiresAbort = rd_kafka_error_txn_requires_abort(error) != 0
        return classify(
            code: code, message: "\(operation): \(message)", isFatal: isFatal, isRetriable: isRetriable,
            requiresAbort: requiresAbort, fallback: .transaction, client: client, topic: nil, file: file, line: line)
    }

    /// Converts a bare `rd_kafka_resp_err_t`. `_FATAL` is resolved with `rd_kafka_fatal_error`.
    static func make(
        _ fallback: KafkaSinkError.Code, code: rd_kafka_resp_err_t, operation: String, client: RDKafkaClient?,
        topic: String?, file: String = #fileID, line: Int = #line
    ) -> KafkaSinkError {
        let transient: Set<Int32> = [
            RD_KAFKA_RESP_ERR__TRANSPORT.rawValue, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue,
            RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, RD_KAFKA_RESP_ERR__WAIT_COORD.rawValue,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE.rawValue, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue, RD_KAFKA_RESP_ERR_NOT_COORDINATOR.rawValue,
            RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE.rawValue, RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE.rawValue,
        ]
        return classify(
            code: code, message: "\(operation): \(describe(code))", isFatal: code == RD_KAFKA_RESP_ERR__FATAL,
            isRetriable: transient.contains(code.rawValue), requiresAbort: false, fallback: fallback, client: client,
            topic: topic, file: file, line: line)
    }

    private static func classify(
        code: rd_kafka_resp_err_t, message: String, isFatal: Bool, isRetriable: Bool, requiresAbort: Bool,
        fallback: KafkaSinkError.Code, client: RDKafkaClient?, topic: String?, file: String, line: Int
    ) -> KafkaSinkError {
        var code = code
        var message = message
        var isFatal = isFatal
        // A fatal error on the handle: report the underlying cause (e.g. _FENCED), not just `_FATAL`.
        if isFatal || code == RD_KAFKA_RESP_ERR__FATAL, let fatal = client?.fatalError() {
            isFatal = true
            if code == RD_KAFKA_RESP_ERR__FATAL {
                code = fatal.code
            }
            message += " (fatal error: \(name(fatal.code)): \(fatal.reason))"
        }
        let errorCode: KafkaSinkError.Code
        if fencedCodes.contains(code.rawValue) {
            errorCode = .fenced
            message = "\(fencedMessage) — \(message)"
            isFatal = true
        } else if isFatal {
            errorCode = .fatal
        } else if requiresAbort {
            errorCode = .abortRequired
        } else if code == RD_KAFKA_RESP_ERR__TIMED_OUT {
            errorCode = .timedOut
        } else {
            errorCode = fallback
        }
        return KafkaSinkError(
            errorCode, message, rdKafkaCode: code.rawValue, rdKafkaName: name(code), isFatal: isFatal,
            isRetriable: isRetriable && !isFatal, requiresAbort: requiresAbort, topic: topic, file: file, line: line)
    }
}

extension String {
    /// Decodes a NUL-terminated C string held in a fixed-size buffer (an `errstr` filled by librdkafka).
    init(cBuffer buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
