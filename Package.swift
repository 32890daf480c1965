// swift-tools-version:6.0
import PackageDescription

// Release builds compile the library for the build machine's CPU (AVX-512 here), as
// llama.cpp's GGML_NATIVE does. Set SWIFTLET_PORTABLE=1 to build a binary that runs on
// any x86-64 / arm64 CPU of its kind (slower SIMD kernels).
let portable = Context.environment["SWIFTLET_PORTABLE"] == "1"
let releaseFlags: [String] = portable ? ["-Ounchecked"] : ["-Ounchecked", "-target-cpu", "native"]

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
            name: "Swiftlet",
            dependencies: ["CBLAS"],
            swiftSettings: [.unsafeFlags(releaseFlags, .when(configuration: .release))]
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
            dependencies: ["Swiftlet", "swiftlet"],
            swiftSettings: [.unsafeFlags(releaseFlags, .when(configuration: .release))]
        ),
    ],
    swiftLanguageModes: [.v5]
)
