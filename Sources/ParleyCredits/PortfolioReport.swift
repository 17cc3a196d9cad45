import Foundation
import ParleyStore

/// What each research area asked for and got in a period, from the requests made in it and the usage metered
/// in it. Amounts are micro-credits.
public struct PortfolioReport: Sendable, Equatable {
    public struct ProjectUsage: Sendable, Equatable {
        public var projectID: RecordID
        public var name: String
        public var used: Int64
    }

    public struct Row: Sendable, Equatable {
        public var researchAreaID: RecordID
        public var researchArea: String
        /// Requests made in the period, every status.
        public var requests: Int
        /// Of those, the ones decided (approved, partial or denied).
        public var decided: Int
        public var requested: Int64
        public var granted: Int64
        /// Approved in full or in part, over decided; nil when none is decided.
        public var approvalRate: Double?
        /// Median of decided − created, in seconds; nil when none is decided.
        public var medianSecondsToDecision: Double?
        /// Metered usage in the period.
        public var used: Int64
        /// This area's part of the credits requested and granted by the period's decided requests (0…1).
        public var requestedShare: Double
        public var grantedShare: Double
        /// Granted share below `fairnessRatio` × requested share.
        public var underfunded: Bool
        /// Its projects by usage, most first (at most three).
        public var topProjects: [ProjectUsage]
    }

    public var from: Date
    public var to: Date
    public var fairnessRatio: Double
    public var rows: [Row]

    /// An area is flagged when its granted share is below half its requested share.
    public static let defaultFairnessRatio = 0.5

    public static func build(areas: [ResearchArea], projects: [Project], requests: [CreditRequest], totals: [LedgerTotal],
                             from: Date, to: Date, fairnessRatio: Double = defaultFairnessRatio) -> PortfolioReport {
        let projectArea = Dictionary(projects.map { ($0.id, $0.researchAreaID) }, uniquingKeysWith: { a, _ in a })
        let projectName = Dictionary(projects.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let inPeriod = requests.filter { $0.createdAt >= from && $0.createdAt < to }
        var usedByProject: [RecordID: Int64] = [:]
        for total in totals where total.kind == .settle && total.account.name == "consumed" {
            usedByProject[total.projectID, default: 0] += total.amount
        }
        // Shares compare decided requests only: a request still pending has not been under-funded yet.
        let decidedInPeriod = inPeriod.filter { $0.status != .pending }
        let totalRequested = decidedInPeriod.reduce(Int64(0)) { $0 + $1.amount }
        let totalGranted = decidedInPeriod.reduce(Int64(0)) { $0 + ($1.granted ?? 0) }
        var rows: [Row] = []
        for area in areas {
            let mine = inPeriod.filter { projectArea[$0.projectID] == area.id }
            let decided = mine.filter { $0.status != .pending }
            let approved = decided.filter { $0.status == .approved || $0.status == .partial }
            let requested = mine.reduce(Int64(0)) { $0 + $1.amount }
            let granted = mine.reduce(Int64(0)) { $0 + ($1.granted ?? 0) }
            let waits = decided.compactMap { r in r.decidedAt.map { $0.timeIntervalSince(r.createdAt) } }.sorted()
            let areaProjects = projects.filter { $0.researchAreaID == area.id }
            let usage = areaProjects.map { ProjectUsage(projectID: $0.id, name: projectName[$0.id] ?? "", used: usedByProject[$0.id] ?? 0) }
            let decidedRequested = decided.reduce(Int64(0)) { $0 + $1.amount }
            let requestedShare = totalRequested > 0 ? Double(decidedRequested) / Double(totalRequested) : 0
            let grantedShare = totalGranted > 0 ? Double(granted) / Double(totalGranted) : 0
            rows.append(Row(
                researchAreaID: area.id, researchArea: area.name, requests: mine.count, decided: decided.count,
                requested: requested, granted: granted,
                approvalRate: decided.isEmpty ? nil : Double(approved.count) / Double(decided.count),
                medianSecondsToDecision: median(waits),
                used: usage.reduce(0) { $0 + $1.used },
                requestedShare: requestedShare, grantedShare: grantedShare,
                underfunded: decidedRequested > 0 && grantedShare < fairnessRatio * requestedShare,
                topProjects: Array(usage.filter { $0.used > 0 }.sorted { ($0.used, $1.name) > ($1.used, $0.name) }.prefix(3))))
        }
        return PortfolioReport(from: from, to: to, fairnessRatio: fairnessRatio, rows: rows)
    }

    static func median(_ sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// One line per area; amounts in credits with exact decimals, rates as fractions, times in hours.
    public var csv: String {
        var lines = ["research_area,requests,decided,requested,granted,approval_rate,median_hours_to_decision,used,"
                     + "requested_share,granted_share,underfunded,top_projects"]
        for row in rows {
            let fields: [String] = [
                row.researchArea, String(row.requests), String(row.decided), CreditAmount.text(row.requested),
                CreditAmount.text(row.granted), row.approvalRate.map { Self.decimal($0) } ?? "",
                row.medianSecondsToDecision.map { Self.decimal($0 / 3600) } ?? "", CreditAmount.text(row.used),
                Self.decimal(row.requestedShare), Self.decimal(row.grantedShare), row.underfunded ? "true" : "false",
                row.topProjects.map(\.name).joined(separator: "; "),
            ]
            lines.append(fields.map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func decimal(_ value: Double) -> String {
        var text = String(format: "%.4f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// RFC 4180 quoting; a leading =, +, - or @ is prefixed with ' so spreadsheets do not run it as a formula.
    public static func csvField(_ raw: String) -> String {
        var value = raw
        if let first = value.first, "=+-@".contains(first), Double(value) == nil { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension CreditsService {
    /// The portfolio over [from, to): any signed-in user may see it (the point is transparency).
    public func report(from: Date, to: Date, fairnessRatio: Double = PortfolioReport.defaultFairnessRatio) async throws -> PortfolioReport {
        guard to > from else { throw CreditsError.invalid("The report's period must end after it starts.") }
        return PortfolioReport.build(areas: try await store.researchAreas(), projects: try await store.projects(),
                                     requests: try await store.creditRequests(projectID: nil),
                                     totals: try await store.ledgerTotals(from: from, to: to), from: from, to: to,
                                     fairnessRatio: fairnessRatio)
    }
}
