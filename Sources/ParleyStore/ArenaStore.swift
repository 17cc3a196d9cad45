import Foundation

/// One arena comparison: a prompt, two models shown as A and B, their answers and the user's vote.
public struct ArenaBattle: Sendable, Codable, Equatable {
    public enum Winner: String, Sendable, Codable, CaseIterable { case a, b, tie, bothBad = "both_bad" }
    public var id: RecordID
    public var userID: RecordID
    public var prompt: String
    public var modelA: String
    public var modelB: String
    public var answerA: String
    public var answerB: String
    public var winner: Winner?
    public var createdAt: Date
    public var votedAt: Date?

    public init(id: RecordID = newRecordID(), userID: RecordID, prompt: String, modelA: String, modelB: String,
                answerA: String = "", answerB: String = "", winner: Winner? = nil, createdAt: Date = Date(),
                votedAt: Date? = nil) {
        self.id = id; self.userID = userID; self.prompt = prompt; self.modelA = modelA; self.modelB = modelB
        self.answerA = answerA; self.answerB = answerB; self.winner = winner
        self.createdAt = Time.normalized(createdAt); self.votedAt = Time.normalized(votedAt)
    }
}

/// A voted battle, as the leaderboard needs it (no text, no user).
public struct ArenaVote: Sendable, Equatable {
    public var modelA: String
    public var modelB: String
    public var winner: ArenaBattle.Winner

    public init(modelA: String, modelB: String, winner: ArenaBattle.Winner) {
        self.modelA = modelA; self.modelB = modelB; self.winner = winner
    }
}

/// A benchmark figure shown on the leaderboard: what `parley eval run --json` prints, for a named model.
public struct EvalResultRecord: Sendable, Codable, Equatable {
    public var model: String
    public var task: String
    public var metric: String
    /// Percent.
    public var value: Double
    public var n: Int
    /// How the number was produced (e.g. "loglikelihood", "lettered-choice"), when known.
    public var method: String?
    public var createdAt: Date

    public init(model: String, task: String, metric: String, value: Double, n: Int, method: String? = nil,
                createdAt: Date = Date()) {
        self.model = model; self.task = task; self.metric = metric; self.value = value; self.n = n
        self.method = method; self.createdAt = Time.normalized(createdAt)
    }
}

/// An OpenAI-compatible chat provider as stored: its key only as ciphertext (the server seals and opens it).
public struct StoredProvider: Sendable, Codable, Equatable {
    public var id: RecordID
    /// Unique; the prefix of its models' ids in the app (`NAME/MODEL`).
    public var name: String
    public var baseURL: String
    public var models: [String]
    public var keyCiphertext: String?
    public var createdBy: RecordID?
    public var createdAt: Date

    public init(id: RecordID = newRecordID(), name: String, baseURL: String, models: [String], keyCiphertext: String?,
                createdBy: RecordID?, createdAt: Date = Date()) {
        self.id = id; self.name = name; self.baseURL = baseURL; self.models = models; self.keyCiphertext = keyCiphertext
        self.createdBy = createdBy; self.createdAt = Time.normalized(createdAt)
    }
}

/// The arena's battles and votes, benchmark figures, and chat providers; beside `ParleyStore` like `MemoryStore`.
/// Battles are the user's own (an id of another user's battle behaves as unknown); votes are read only in
/// aggregate; providers are server-wide (the server lets only admins change them).
public protocol ArenaStore: Sendable {
    func createBattle(_ battle: ArenaBattle) async throws -> ArenaBattle
    func battle(id: RecordID, userID: RecordID) async throws -> ArenaBattle?
    /// Writes the two answers (as they end; a battle is voted on only after both ended).
    func updateBattleAnswers(id: RecordID, userID: RecordID, answerA: String, answerB: String) async throws
    /// Records the vote once; false when the user has no such battle or it was already voted on.
    func voteBattle(id: RecordID, userID: RecordID, winner: ArenaBattle.Winner, now: Date) async throws -> Bool
    /// Every vote, oldest first.
    func arenaVotes() async throws -> [ArenaVote]

    /// Adds or replaces the figure for (model, task, metric).
    func saveEvalResult(_ result: EvalResultRecord) async throws
    func evalResults() async throws -> [EvalResultRecord]

    /// Throws `.conflict` when the name is taken.
    func createProvider(_ provider: StoredProvider) async throws -> StoredProvider
    func providers() async throws -> [StoredProvider]
    @discardableResult func deleteProvider(id: RecordID) async throws -> Bool
}

enum ArenaRules {
    static func checkedBattle(_ b: ArenaBattle) throws {
        guard !b.prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw StoreError.invalid("an arena prompt is empty") }
        guard b.modelA != b.modelB else { throw StoreError.invalid("an arena battle needs two different models") }
        guard !b.modelA.isEmpty, !b.modelB.isEmpty else { throw StoreError.invalid("an arena battle's model is not named") }
    }

    static func checkedEval(_ r: EvalResultRecord) throws {
        guard !r.model.isEmpty, !r.task.isEmpty, !r.metric.isEmpty else { throw StoreError.invalid("an eval result needs model, task and metric") }
        guard r.value.isFinite, r.n >= 0 else { throw StoreError.invalid("an eval result's value must be finite and n ≥ 0") }
    }

    static func checkedProvider(_ p: StoredProvider) throws {
        guard !p.name.isEmpty, !p.name.contains("/") else { throw StoreError.invalid("a provider's name is empty or contains '/'") }
        guard !p.models.isEmpty, p.models.allSatisfy({ !$0.isEmpty && !$0.contains("\n") }) else {
            throw StoreError.invalid("a provider needs at least one model id (one per line)")
        }
        guard p.baseURL.hasPrefix("http://") || p.baseURL.hasPrefix("https://") else {
            throw StoreError.invalid("a provider's base URL must start with http:// or https://")
        }
    }
}

enum ArenaQueries {
    static let battleColumns = "id, user_id, prompt, model_a, model_b, answer_a, answer_b, winner, created_at, voted_at"
    static let insertBattle = "INSERT INTO arena_battles (\(battleColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    static let battle = "SELECT \(battleColumns) FROM arena_battles WHERE id = $1 AND user_id = $2"
    static let answers = "UPDATE arena_battles SET answer_a = $3, answer_b = $4 WHERE id = $1 AND user_id = $2"
    static let vote = "UPDATE arena_battles SET winner = $3, voted_at = $4 WHERE id = $1 AND user_id = $2 AND winner IS NULL"
    static let votes = "SELECT model_a, model_b, winner FROM arena_battles WHERE winner IS NOT NULL ORDER BY voted_at, id"

    static let evalColumns = "model, task, metric, value, n, method, created_at"
    static let upsertEval = """
        INSERT INTO arena_eval_results (id, \(evalColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (model, task, metric) DO UPDATE SET value = excluded.value, n = excluded.n,
            method = excluded.method, created_at = excluded.created_at
        """
    static let evals = "SELECT \(evalColumns) FROM arena_eval_results ORDER BY task, value DESC, model"

    static let providerColumns = "id, name, base_url, models, key_ciphertext, created_by, created_at"
    static let insertProvider = "INSERT INTO chat_providers (\(providerColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    static let providers = "SELECT \(providerColumns) FROM chat_providers ORDER BY name"
    static let deleteProvider = "DELETE FROM chat_providers WHERE id = $1"

    static func battleValues(_ b: ArenaBattle) -> [SQLValue] {
        [.text(b.id), .text(b.userID), .text(b.prompt), .text(b.modelA), .text(b.modelB), .text(b.answerA),
         .text(b.answerB), .text(b.winner?.rawValue), .time(b.createdAt), .time(b.votedAt)]
    }

    static func evalValues(_ r: EvalResultRecord) -> [SQLValue] {
        [.text(newRecordID()), .text(r.model), .text(r.task), .text(r.metric), .double(r.value), .int(r.n),
         .text(r.method), .time(r.createdAt)]
    }

    static func providerValues(_ p: StoredProvider) -> [SQLValue] {
        [.text(p.id), .text(p.name), .text(p.baseURL), .text(p.models.joined(separator: "\n")), .text(p.keyCiphertext),
         .text(p.createdBy), .time(p.createdAt)]
    }
}

extension ArenaBattle {
    init(row: some SQLRowReader) throws {
        let winner = try row.optionalText("winner")
        self.init(id: try row.text("id"), userID: try row.text("user_id"), prompt: try row.text("prompt"),
                  modelA: try row.text("model_a"), modelB: try row.text("model_b"), answerA: try row.text("answer_a"),
                  answerB: try row.text("answer_b"), winner: winner.flatMap(Winner.init(rawValue:)),
                  createdAt: try row.time("created_at"), votedAt: try row.optionalTime("voted_at"))
    }
}

extension ArenaVote {
    init?(row: some SQLRowReader) throws {
        guard let winner = ArenaBattle.Winner(rawValue: try row.text("winner")) else { return nil }
        self.init(modelA: try row.text("model_a"), modelB: try row.text("model_b"), winner: winner)
    }
}

extension EvalResultRecord {
    init(row: some SQLRowReader) throws {
        self.init(model: try row.text("model"), task: try row.text("task"), metric: try row.text("metric"),
                  value: try row.optionalDouble("value") ?? 0, n: Int(try row.int("n")), method: try row.optionalText("method"),
                  createdAt: try row.time("created_at"))
    }
}

extension StoredProvider {
    init(row: some SQLRowReader) throws {
        self.init(id: try row.text("id"), name: try row.text("name"), baseURL: try row.text("base_url"),
                  models: try row.text("models").split(separator: "\n").map(String.init),
                  keyCiphertext: try row.optionalText("key_ciphertext"), createdBy: try row.optionalText("created_by"),
                  createdAt: try row.time("created_at"))
    }
}
