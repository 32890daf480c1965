// swift-tools-version:6.0
import PackageDescription

// A package that uses Swiftlet the normal way: by URL and version. `check.sh` points
// SWIFTLET_URL at a local clone of this repository tagged with a version; a user would
// name the public repository instead.
let url = Context.environment["SWIFTLET_URL"] ?? "https://github.com/swiftlet/swiftlet"

let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: url, from: "0.1.0"),
    ],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [.product(name: "Swiftlet", package: "swiftlet")]),
    ]
)
