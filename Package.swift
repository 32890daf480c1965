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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "SwiftletTests",
            dependencies: ["Swiftlet", "swiftlet"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
