// The tables of the arena and of chat providers (migration "arena_and_providers").
//
// `arena_battles`: one prompt answered by two models shown anonymously as A and B; `winner` is NULL until the
// user votes ('a', 'b', 'tie' or 'both_bad'), and a vote is final (the update only touches unvoted rows).
// `arena_eval_results`: benchmark figures (the JSON `parley eval run --json` prints, with the model's name)
// shown beside the arena's ratings. `chat_providers`: OpenAI-compatible endpoints the admin configured; the
// key is stored only as AES-GCM ciphertext (base64, sealed by the server with a key that never enters the
// database), so a copy of the database alone reveals no key.

enum ArenaSchema {
    static let statements: [SQLStatement] = [
        .both("""
            CREATE TABLE arena_battles (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                prompt TEXT NOT NULL,
                model_a TEXT NOT NULL,
                model_b TEXT NOT NULL,
                answer_a TEXT NOT NULL DEFAULT '',
                answer_b TEXT NOT NULL DEFAULT '',
                winner TEXT CHECK (winner IN ('a', 'b', 'tie', 'both_bad')),
                created_at BIGINT NOT NULL,
                voted_at BIGINT,
                CHECK (model_a <> model_b)
            )
            """),
        .both("CREATE INDEX arena_battles_by_user ON arena_battles (user_id, created_at)"),
        .both("CREATE INDEX arena_battles_voted ON arena_battles (voted_at) WHERE winner IS NOT NULL"),
        .both("""
            CREATE TABLE arena_eval_results (
                id TEXT PRIMARY KEY,
                model TEXT NOT NULL,
                task TEXT NOT NULL,
                metric TEXT NOT NULL,
                value DOUBLE PRECISION NOT NULL,
                n BIGINT NOT NULL,
                method TEXT,
                created_at BIGINT NOT NULL,
                UNIQUE (model, task, metric)
            )
            """),
        .both("""
            CREATE TABLE chat_providers (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                base_url TEXT NOT NULL,
                models TEXT NOT NULL,
                key_ciphertext TEXT,
                created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
                created_at BIGINT NOT NULL
            )
            """),
    ]
}
