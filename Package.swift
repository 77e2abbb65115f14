// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

let package = Package(
    name: "tributary",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tributary", targets: ["tributary"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // MARK: - C system libraries
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        /// Tiny C helpers for what Swift cannot call (librdkafka varargs) and the dev broker's
        /// TCP_NODELAY `accept()` interposer.
        .target(name: "CTributaryShims", dependencies: ["CRdKafka"], linkerSettings: [.linkedLibrary("dl")]),

        // MARK: - Core and pure decoders
        .target(name: "TributaryCore", swiftSettings: swiftSettings),
        .target(
            name: "PGOutput",
            dependencies: ["TributaryCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(name: "EventFormat", dependencies: ["TributaryCore"], swiftSettings: swiftSettings),
        .target(
            name: "TributaryConfig",
            dependencies: ["TributaryCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),

        // MARK: - I/O modules
        .target(
            name: "PostgresSource",
            dependencies: [
                "TributaryCore", "PGOutput", "CLibPQ",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KafkaSink",
            dependencies: [
                "TributaryCore", "CRdKafka", "CTributaryShims",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Engine",
            dependencies: ["TributaryCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // MARK: - Executable (composition root)
        .executableTarget(
            name: "tributary",
            dependencies: [
                "TributaryCore", "PGOutput", "EventFormat", "PostgresSource", "KafkaSink", "Engine", "TributaryConfig",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Tests
        .testTarget(name: "TributaryCoreTests", dependencies: ["TributaryCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PGOutputTests",
            dependencies: ["PGOutput", "TributaryCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EventFormatTests", dependencies: ["EventFormat", "TributaryCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TributaryConfigTests", dependencies: ["TributaryConfig", "TributaryCore"], swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KafkaSinkTests",
            dependencies: ["KafkaSink", "TributaryCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TributaryCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["PostgresSource", "KafkaSink", "EventFormat", "Engine", "TributaryCore", "PGOutput"],
            swiftSettings: swiftSettings
        ),
    ]
)
