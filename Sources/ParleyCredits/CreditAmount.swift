import Foundation

/// Credits are counted in whole micro-credits (1 credit = 1,000,000), so every sum is exact; they are shown and
/// accepted as decimal credits.
public enum CreditAmount {
    public static let microPerCredit: Int64 = 1_000_000
    /// Far above any real allocation, far below overflow of sums over many rows.
    public static let maximumCredits: Double = 1e12

    /// Micro-credits from a decimal number of credits (rounded to the nearest micro-credit).
    public static func micro(credits: Double) throws -> Int64 {
        guard credits.isFinite, credits >= 0, credits <= maximumCredits else {
            throw CreditsError.invalid("an amount of credits must be a number between 0 and \(Int64(maximumCredits))")
        }
        return Int64((credits * Double(microPerCredit)).rounded())
    }

    /// Credits as a JSON number (exact to the micro-credit for any realistic amount).
    public static func credits(_ micro: Int64) -> Double { Double(micro) / Double(microPerCredit) }

    /// Exact decimal text, without trailing zeros: 1500000 → "1.5", 2000000 → "2".
    public static func text(_ micro: Int64) -> String {
        let sign = micro < 0 ? "-" : ""
        let magnitude = micro.magnitude
        let whole = magnitude / UInt64(microPerCredit), fraction = magnitude % UInt64(microPerCredit)
        guard fraction > 0 else { return "\(sign)\(whole)" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 6 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(sign)\(whole).\(digits)"
    }
}
