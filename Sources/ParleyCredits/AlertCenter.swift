import Foundation
import ParleyStore

/// Delivers an alert outside the app (the server posts it to a webhook).
public protocol AlertNotifier: Sendable {
    func deliver(_ alert: CreditAlert, project: Project) async
}

/// Raises an alert when a project's usage reaches 80 % and 100 % of its granted credits: once per threshold and
/// granted level (a new grant re-arms them), kept in the store for the app, and handed to the notifier.
public struct AlertCenter: Sendable {
    public static let thresholds = [80, 100]
    let store: any CreditsStore
    let notifier: (any AlertNotifier)?

    public func check(projectID: RecordID, ledger: CreditLedger) async throws {
        let balance = try await ledger.balance(projectID: projectID)
        guard balance.granted > 0 else { return }
        for threshold in Self.thresholds where balance.used * 100 >= balance.granted * Int64(threshold) {
            let message = "Project has used \(balance.used * 100 / balance.granted) % of its \(CreditAmount.text(balance.granted)) "
                + "granted credits (\(CreditAmount.text(balance.remaining)) left)."
            let alert = CreditAlert(projectID: projectID, threshold: threshold, grantedLevel: balance.granted, message: message)
            if try await store.recordAlert(alert), let notifier, let project = try await store.project(id: projectID) {
                await notifier.deliver(alert, project: project)
            }
        }
    }
}
