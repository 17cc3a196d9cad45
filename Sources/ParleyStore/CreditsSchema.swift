// The tables of compute credits (migration "credits"). Amounts are BIGINT micro-credits. The ledger is
// double-entry: a transaction's entries sum to zero (checked by the store before inserting) and every balance is
// the sum of an account's entries, never a stored number. `idempotency_key` is UNIQUE, so a retried request
// cannot post twice. A request's audit trail is append-only (`credit_request_events`).

enum CreditsSchema {
    static let statements: [SQLStatement] = [
        .both("""
            CREATE TABLE research_areas (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL
            )
            """),
        .both("""
            CREATE TABLE area_reviewers (
                area_id TEXT NOT NULL REFERENCES research_areas(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                PRIMARY KEY (area_id, user_id)
            )
            """),
        .both("""
            CREATE TABLE projects (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                research_area_id TEXT NOT NULL REFERENCES research_areas(id) ON DELETE CASCADE,
                lead_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                period_end_policy TEXT NOT NULL CHECK (period_end_policy IN ('expire', 'rollover')),
                created_at BIGINT NOT NULL
            )
            """),
        .both("""
            CREATE TABLE project_members (
                project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                role TEXT NOT NULL CHECK (role IN ('lead', 'member')),
                PRIMARY KEY (project_id, user_id)
            )
            """),
        .both("CREATE INDEX project_members_by_user ON project_members (user_id)"),
        .both("""
            CREATE TABLE credit_prices (
                id TEXT PRIMARY KEY,
                unit TEXT NOT NULL CHECK (unit IN ('prompt_1k_tokens', 'completion_1k_tokens', 'cpu_second', 'gb_month')),
                model TEXT NOT NULL,
                micro_credits BIGINT NOT NULL CHECK (micro_credits >= 0),
                effective_from BIGINT NOT NULL,
                set_by TEXT REFERENCES users(id) ON DELETE SET NULL
            )
            """),
        .both("""
            CREATE TABLE credit_requests (
                id TEXT PRIMARY KEY,
                project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('initial', 'supplement', 'renewal')),
                amount BIGINT NOT NULL CHECK (amount > 0),
                granted BIGINT CHECK (granted >= 0),
                period_start BIGINT NOT NULL,
                period_end BIGINT NOT NULL,
                justification TEXT NOT NULL,
                expected_outcome TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'partial', 'denied')),
                requested_by TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at BIGINT NOT NULL,
                decided_at BIGINT,
                decided_by TEXT REFERENCES users(id) ON DELETE SET NULL,
                reason TEXT,
                excluded_reviewers TEXT NOT NULL,
                CHECK (period_end > period_start)
            )
            """),
        .both("CREATE INDEX credit_requests_by_project ON credit_requests (project_id, created_at)"),
        .dialects(
            sqlite: """
                CREATE TABLE credit_request_events (
                    seq INTEGER PRIMARY KEY,
                    request_id TEXT NOT NULL REFERENCES credit_requests(id) ON DELETE CASCADE,
                    actor_id TEXT NOT NULL,
                    action TEXT NOT NULL,
                    from_status TEXT,
                    to_status TEXT NOT NULL,
                    amount BIGINT,
                    reason TEXT,
                    at BIGINT NOT NULL
                )
                """,
            postgres: """
                CREATE TABLE credit_request_events (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    request_id TEXT NOT NULL REFERENCES credit_requests(id) ON DELETE CASCADE,
                    actor_id TEXT NOT NULL,
                    action TEXT NOT NULL,
                    from_status TEXT,
                    to_status TEXT NOT NULL,
                    amount BIGINT,
                    reason TEXT,
                    at BIGINT NOT NULL
                )
                """),
        .both("CREATE INDEX credit_request_events_by_request ON credit_request_events (request_id, seq)"),
        .both("""
            CREATE TABLE api_key_projects (
                key_id TEXT PRIMARY KEY REFERENCES api_keys(id) ON DELETE CASCADE,
                project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE
            )
            """),
        .both("""
            CREATE TABLE ledger_transactions (
                id TEXT PRIMARY KEY,
                idempotency_key TEXT UNIQUE,
                project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'settle', 'expire', 'adjust')),
                memo TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """),
        .both("CREATE INDEX ledger_transactions_by_time ON ledger_transactions (created_at)"),
        .dialects(
            sqlite: """
                CREATE TABLE ledger_entries (
                    seq INTEGER PRIMARY KEY,
                    transaction_id TEXT NOT NULL REFERENCES ledger_transactions(id) ON DELETE CASCADE,
                    account TEXT NOT NULL,
                    project_id TEXT NOT NULL,
                    amount BIGINT NOT NULL
                )
                """,
            postgres: """
                CREATE TABLE ledger_entries (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    transaction_id TEXT NOT NULL REFERENCES ledger_transactions(id) ON DELETE CASCADE,
                    account TEXT NOT NULL,
                    project_id TEXT NOT NULL,
                    amount BIGINT NOT NULL
                )
                """),
        .both("CREATE INDEX ledger_entries_by_account ON ledger_entries (project_id, account)"),
        .both("CREATE INDEX ledger_entries_by_transaction ON ledger_entries (transaction_id)"),
        .both("""
            CREATE TABLE credit_alerts (
                project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                threshold INTEGER NOT NULL,
                granted_level BIGINT NOT NULL,
                message TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (project_id, threshold, granted_level)
            )
            """),
    ]
}
