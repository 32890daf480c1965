// swift-tools-version:6.0
import PackageDescription

// No unsafe build flags anywhere: Swiftlet must resolve as a versioned dependency. The hot
// loops live in CSwiftletKernels, whose per-ISA variants (AVX-512, AVX2, baseline) carry
// their own target attributes and are chosen at run time from the CPU's features.
let package = Package(
    name: "Swiftlet",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Swiftlet", targets: ["Swiftlet"]),
        .executable(name: "swiftlet", targets: ["swiftlet"]),
        .library(name: "SwiftletServer", targets: ["SwiftletServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "CSwiftletKernels",
            linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]
        ),
        .target(
            name: "Swiftlet",
            dependencies: ["CBLAS", "CSwiftletKernels"]
        ),
        .executableTarget(
            name: "swiftlet",
            dependencies: [
                "Swiftlet",
                "SwiftletServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The OpenAI-compatible HTTP server (`swiftlet serve`); the core library stays free
        // of these dependencies.
        .target(
            name: "SwiftletServer",
            dependencies: [
                "Swiftlet",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/chat.html")]
        ),
        .testTarget(
            name: "SwiftletServerTests",
            dependencies: ["Swiftlet", "SwiftletServer"]
        ),
        .testTarget(
            name: "SwiftletTests",
            dependencies: ["Swiftlet", "swiftlet"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
