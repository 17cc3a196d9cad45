import Foundation

/// Hashed n-grams of a turn, the surface the trained model reads beside the concepts: Latin-script words and word
/// pairs, letter 4-grams inside longer words (so a misspelling still shares most of its features with the word),
/// and Chinese characters in runs of one to three. Hashing bounds the model's size whatever the vocabulary, and a
/// new language needs no code here: its words and characters hash the same way.
enum TextFeatures {
    /// Number of hash buckets. Large enough that collisions between the few thousand n-grams seen are rare.
    static let buckets: UInt32 = 1 << 18

    /// FNV-1a over UTF-8: stable across runs and platforms (Swift's own `Hasher` is seeded per process).
    static func bucket(_ text: String) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            h ^= UInt32(byte)
            h = h &* 16_777_619
        }
        return h % buckets
    }

    /// Adds the n-grams of `units` (a `TokenStream`'s tokens) to `features` under `prefix`, each with `value`.
    /// Clause boundaries break word pairs and character runs; laughter markers are left to the modifiers.
    static func add(_ units: [String], isCJK: [Bool], prefix: String, value: Double, letterGrams: Bool,
                    into features: inout [String: Double]) {
        func put(_ gram: String) { features[prefix + String(bucket(gram))] = value }
        var previousWord: String?
        var run: [String] = []
        func flushRun() {
            for i in run.indices {
                put("c1 " + run[i])
                if i + 1 < run.count { put("c2 " + run[i] + run[i + 1]) }
                if i + 2 < run.count { put("c3 " + run[i] + run[i + 1] + run[i + 2]) }
            }
            run.removeAll(keepingCapacity: true)
        }
        for (i, unit) in units.enumerated() {
            if unit == TokenStream.boundary || unit == TokenStream.laugh {
                flushRun()
                previousWord = nil
                continue
            }
            if isCJK[i] {
                run.append(unit)
                previousWord = nil
                continue
            }
            flushRun()
            put("w1 " + unit)
            if let previousWord { put("w2 " + previousWord + " " + unit) }
            previousWord = unit
            if letterGrams && unit.count >= 5 {
                let letters = Array(("<" + unit + ">").unicodeScalars)
                for k in 0...(letters.count - 4) {
                    put("l4 " + String(String.UnicodeScalarView(letters[k..<(k + 4)])))
                }
            }
        }
        flushRun()
    }
}
