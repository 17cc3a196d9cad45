import Foundation
import ParleyStore

/// The exchange rates in force at a time. Prices are versioned: the newest version whose `effectiveFrom` is not
/// after the time applies, a model's own price before the all-models one ("").
public struct PriceBook: Sendable {
    /// Used when an admin has set no price for a unit: 1 credit per 1k tokens either way, 0.01 per CPU-second,
    /// 1 per GB-month.
    public static let defaults: [PriceUnit: Int64] = [
        .promptKTokens: 1_000_000, .completionKTokens: 1_000_000, .cpuSecond: 10_000, .gbMonth: 1_000_000,
    ]

    public let versions: [Price]

    public init(_ versions: [Price]) {
        self.versions = versions.sorted { $0.effectiveFrom < $1.effectiveFrom }
    }

    /// Micro-credits per unit for `model` at `time`.
    public func rate(_ unit: PriceUnit, model: String, at time: Date) -> Int64 {
        let applicable = versions.filter { $0.unit == unit && $0.effectiveFrom <= time }
        if let own = applicable.last(where: { $0.model == model && !model.isEmpty }) { return own.microCredits }
        if let general = applicable.last(where: { $0.model.isEmpty }) { return general.microCredits }
        return Self.defaults[unit] ?? 0
    }

    /// The cost of a generation in micro-credits, rounded up to the next micro-credit (never undercharged).
    public func tokenCost(promptTokens: Int, completionTokens: Int, model: String, at time: Date) -> Int64 {
        let prompt = Int64(max(0, promptTokens)) * rate(.promptKTokens, model: model, at: time)
        let completion = Int64(max(0, completionTokens)) * rate(.completionKTokens, model: model, at: time)
        let total = prompt + completion
        return (total + 999) / 1000
    }

    /// The prices in force at `time`, one per unit and model named in any version.
    public func current(at time: Date) -> [Price] {
        var latest: [String: Price] = [:]
        for price in versions where price.effectiveFrom <= time {
            latest["\(price.unit.rawValue)|\(price.model)"] = price
        }
        return latest.values.sorted { ($0.model, $0.unit.rawValue) < ($1.model, $1.unit.rawValue) }
    }
}
