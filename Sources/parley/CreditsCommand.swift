import ArgumentParser
import Foundation
import ParleyCredits
import ParleyStore

struct Credits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute credits: the portfolio report, research areas, prices, period end.",
        subcommands: [Report.self, Areas.self, Prices.self, ClosePeriods.self]
    )

    /// The service over the opened store, acting as the given user or the first admin (the CLI has the database,
    /// so it may do what an admin may).
    static func open(_ database: DatabaseOption, as name: String?) async throws -> (CreditsService, CreditsActor, any ParleyStore) {
        let store = try await database.open()
        guard let both = store as? any ParleyStore & CreditsStore else { throw CLIError("this database keeps no credits") }
        let service = CreditsService(store: both)
        let actor: CreditsActor
        if let name {
            let user = try await service.user(name)
            actor = CreditsActor(userID: user.id, isAdmin: user.isAdmin)
        } else {
            actor = CreditsActor(userID: "", isAdmin: true)
        }
        return (service, actor, store)
    }

    static func parseDate(_ raw: String?, _ option: String) throws -> Date? {
        guard let raw else { return nil }
        if let d = try? Date.ISO8601FormatStyle().parse(raw) { return d }
        if let d = try? Date.ISO8601FormatStyle().year().month().day().parse(raw) { return d }
        throw ValidationError("\(option) must be an ISO 8601 date (2026-11-01) or time")
    }

    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as CreditsError {
            throw CLIError(e.description)
        } catch let e as StoreError {
            throw CLIError(e.description)
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Requested vs granted, approval rate, median time to decision, usage and fairness by research area."
        )
        @Option(help: "Start of the period (ISO 8601; default: the beginning).") var from: String?
        @Option(help: "End of the period, exclusive (default: now).") var to: String?
        @Flag(help: "Print CSV instead of a table.") var csv = false
        @Option(help: "Write the CSV to this file instead of stdout (implies --csv).") var output: String?
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let start = try Credits.parseDate(from, "--from") ?? Date(timeIntervalSince1970: 0)
            let end = try Credits.parseDate(to, "--to") ?? Date().addingTimeInterval(1)
            let (service, _, store) = try await Credits.open(database, as: nil)
            let report = try await Credits.run { try await service.report(from: start, to: end) }
            try? await store.close()
            if let output {
                try report.csv.write(toFile: output, atomically: true, encoding: .utf8)
            } else if csv {
                writeOut(report.csv)
            } else {
                writeOut(Self.table(report))
            }
        }

        static func table(_ report: PortfolioReport) -> String {
            func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
                let fill = String(repeating: " ", count: max(0, width - s.count))
                return left ? s + fill : fill + s
            }
            func line(_ cells: [String]) -> String {
                pad(cells[0], 24, left: true) + " " + pad(cells[1], 12) + " " + pad(cells[2], 12) + " " + pad(cells[3], 9)
                    + " " + pad(cells[4], 12) + " " + pad(cells[5], 9) + "  " + cells[6]
            }
            var lines = [line(["research area", "requested", "granted", "approved", "used", "fairness", "top projects"])]
            for row in report.rows {
                let rate = row.approvalRate.map { "\(Int(($0 * 100).rounded())) %" } ?? "-"
                lines.append(line([row.researchArea, CreditAmount.text(row.requested), CreditAmount.text(row.granted), rate,
                                   CreditAmount.text(row.used), row.underfunded ? "LOW" : "ok",
                                   row.topProjects.map(\.name).joined(separator: ", ")]))
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    struct Areas: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List research areas, or add one.", subcommands: [List.self, Add.self])

        struct List: AsyncParsableCommand {
            @OptionGroup var database: DatabaseOption
            func run() async throws {
                let (service, _, store) = try await Credits.open(database, as: nil)
                for area in try await service.researchAreas() { writeOut("\(area.id)\t\(area.name)\n") }
                try? await store.close()
            }
        }

        struct Add: AsyncParsableCommand {
            @Argument(help: "The area's name.") var name: String
            @OptionGroup var database: DatabaseOption
            func run() async throws {
                let (service, actor, store) = try await Credits.open(database, as: nil)
                let area = try await Credits.run { try await service.createResearchArea(name: name, by: actor) }
                try? await store.close()
                writeOut(area.id + "\n")
            }
        }
    }

    struct Prices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the prices in force, or set one from now on.",
                                                        subcommands: [List.self, SetPrice.self])

        struct List: AsyncParsableCommand {
            @OptionGroup var database: DatabaseOption
            func run() async throws {
                let (service, _, store) = try await Credits.open(database, as: nil)
                let book = try await service.priceBook()
                try? await store.close()
                for unit in PriceUnit.allCases {
                    writeOut("\(unit.rawValue)\t*\t\(CreditAmount.text(book.rate(unit, model: "", at: Date())))\n")
                }
                for price in book.current(at: Date()) where !price.model.isEmpty {
                    writeOut("\(price.unit.rawValue)\t\(price.model)\t\(CreditAmount.text(price.microCredits))\n")
                }
            }
        }

        struct SetPrice: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "set", abstract: "Set a price from a time on.")
            @Argument(help: "prompt_1k_tokens, completion_1k_tokens, cpu_second or gb_month.") var unit: String
            @Argument(help: "Credits per unit.") var credits: Double
            @Option(help: "Only for this model (default: every model).") var model = ""
            @Option(help: "From this time on (ISO 8601; default: now).") var from: String?
            @OptionGroup var database: DatabaseOption

            func run() async throws {
                guard let parsed = PriceUnit(rawValue: unit) else {
                    throw ValidationError("the unit is one of " + PriceUnit.allCases.map(\.rawValue).joined(separator: ", "))
                }
                let effective = try Credits.parseDate(from, "--from")
                let (service, actor, store) = try await Credits.open(database, as: nil)
                _ = try await Credits.run {
                    try await service.setPrice(unit: parsed, model: model, credits: credits, effectiveFrom: effective, by: actor)
                }
                try? await store.close()
            }
        }
    }

    struct ClosePeriods: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "close-periods",
            abstract: "Expire the unused credits of ended periods (projects whose policy is 'expire')."
        )
        @OptionGroup var database: DatabaseOption
        func run() async throws {
            let (service, _, store) = try await Credits.open(database, as: nil)
            let expired = try await Credits.run { try await service.closeEndedPeriods() }
            try? await store.close()
            for (project, amount) in expired.sorted(by: { $0.key < $1.key }) {
                writeOut("\(project)\t\(CreditAmount.text(amount))\n")
            }
        }
    }
}
