// The versioned schema shared by both backends.
//
// One ordered list: each migration has a version, a name and its statements for each dialect. Where the two
// dialects agree the statement is written once (`.both`). Versions are recorded in `schema_migrations`; each
// migration runs in its own transaction together with the row that records it.
//
// Portable types: ids are TEXT (lowercase UUIDs), times are BIGINT milliseconds since 1970, booleans are INTEGER
// 0/1 with a CHECK. Deleting a user deletes everything of theirs; deleting a conversation deletes its messages and
// their feedback (ON DELETE CASCADE everywhere). A message's parent must be in the same conversation: the
// composite foreign key (parent_id, conversation_id) → messages(id, conversation_id) enforces it in the database
// too, not only in the store's code.

enum SQLDialect: Sendable { case sqlite, postgres }

struct SQLStatement: Sendable {
    let sqlite: String
    let postgres: String

    static func both(_ sql: String) -> SQLStatement { SQLStatement(sqlite: sql, postgres: sql) }
    static func dialects(sqlite: String, postgres: String) -> SQLStatement { SQLStatement(sqlite: sqlite, postgres: postgres) }

    func sql(for dialect: SQLDialect) -> String { dialect == .sqlite ? sqlite : postgres }
}

struct Migration: Sendable {
    let version: Int
    let name: String
    let statements: [SQLStatement]
}

enum Schema {
    /// Created before any migration runs (outside the numbered list, it records the list).
    static let migrationsTable = SQLStatement.both("""
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )
        """)

    static let migrations: [Migration] = [
        Migration(version: 1, name: "accounts", statements: [
            .both("""
                CREATE TABLE users (
                    id TEXT PRIMARY KEY,
                    email TEXT NOT NULL UNIQUE,
                    display_name TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
                    created_at BIGINT NOT NULL
                )
                """),
            .both("""
                CREATE TABLE settings (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                )
                """),
            // The primary key is the index for the per-request lookup by token hash.
            .both("""
                CREATE TABLE sessions (
                    token_hash TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    csrf_token TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL
                )
                """),
            .both("CREATE INDEX sessions_by_user ON sessions (user_id)"),
            .both("CREATE INDEX sessions_by_expiry ON sessions (expires_at)"),
            // UNIQUE (key_hash) is the index for the per-request lookup by key hash.
            .both("""
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    prefix TEXT NOT NULL,
                    key_hash TEXT NOT NULL UNIQUE,
                    created_at BIGINT NOT NULL,
                    last_used_at BIGINT,
                    revoked_at BIGINT
                )
                """),
            .both("CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at)"),
        ]),
        Migration(version: 2, name: "conversations", statements: [
            .dialects(
                sqlite: """
                    CREATE TABLE conversations (
                        id TEXT PRIMARY KEY,
                        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                        title TEXT NOT NULL,
                        system_prompt TEXT,
                        temperature REAL,
                        model TEXT,
                        current_leaf_id TEXT,
                        created_at BIGINT NOT NULL,
                        updated_at BIGINT NOT NULL
                    )
                    """,
                postgres: """
                    CREATE TABLE conversations (
                        id TEXT PRIMARY KEY,
                        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                        title TEXT NOT NULL,
                        system_prompt TEXT,
                        temperature DOUBLE PRECISION,
                        model TEXT,
                        current_leaf_id TEXT,
                        created_at BIGINT NOT NULL,
                        updated_at BIGINT NOT NULL
                    )
                    """),
            .both("CREATE INDEX conversations_by_user_updated ON conversations (user_id, updated_at)"),
            // `seq` orders messages written in the same millisecond (oldest first = insertion order).
            .dialects(
                sqlite: """
                    CREATE TABLE messages (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                        parent_id TEXT,
                        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
                        content TEXT NOT NULL,
                        model TEXT,
                        status TEXT NOT NULL CHECK (status IN ('complete', 'generating', 'incomplete')),
                        created_at BIGINT NOT NULL,
                        updated_at BIGINT NOT NULL,
                        UNIQUE (id, conversation_id),
                        FOREIGN KEY (parent_id, conversation_id) REFERENCES messages (id, conversation_id) ON DELETE CASCADE
                    )
                    """,
                postgres: """
                    CREATE TABLE messages (
                        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                        parent_id TEXT,
                        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
                        content TEXT NOT NULL,
                        model TEXT,
                        status TEXT NOT NULL CHECK (status IN ('complete', 'generating', 'incomplete')),
                        created_at BIGINT NOT NULL,
                        updated_at BIGINT NOT NULL,
                        UNIQUE (id, conversation_id),
                        FOREIGN KEY (parent_id, conversation_id) REFERENCES messages (id, conversation_id) ON DELETE CASCADE
                    )
                    """),
            .both("CREATE INDEX messages_by_conversation ON messages (conversation_id, created_at)"),
            .both("CREATE INDEX messages_by_parent ON messages (parent_id)"),
            .both("CREATE INDEX messages_generating ON messages (status) WHERE status = 'generating'"),
            .both("""
                CREATE TABLE feedback (
                    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
                    comment TEXT,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (message_id, user_id)
                )
                """),
            .both("CREATE INDEX feedback_by_user ON feedback (user_id)"),
            .both("""
                CREATE TABLE custom_instructions (
                    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                    about_me TEXT NOT NULL,
                    how_to_answer TEXT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """),
        ]),
        Migration(version: 3, name: "credits", statements: CreditsSchema.statements),
        // Wellbeing: what the review queue needs and nothing more — category, severity, action, time and the
        // conversation, never the text. Deleting the user or the conversation deletes its records, a record's
        // review case and the case's audit trail.
        Migration(version: 4, name: "wellbeing", statements: [
            .both("""
                CREATE TABLE wellbeing_records (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    conversation_id TEXT REFERENCES conversations(id) ON DELETE CASCADE,
                    category TEXT NOT NULL,
                    severity INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 3),
                    action TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """),
            .both("CREATE INDEX wellbeing_records_by_user ON wellbeing_records (user_id, created_at)"),
            .both("CREATE INDEX wellbeing_records_by_time ON wellbeing_records (created_at)"),
            .both("CREATE INDEX wellbeing_records_by_conversation ON wellbeing_records (conversation_id)"),
            .both("""
                CREATE TABLE wellbeing_review_cases (
                    id TEXT PRIMARY KEY,
                    record_id TEXT NOT NULL UNIQUE REFERENCES wellbeing_records(id) ON DELETE CASCADE,
                    status TEXT NOT NULL CHECK (status IN ('open', 'in_review', 'closed')),
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """),
            .both("CREATE INDEX wellbeing_review_cases_by_status ON wellbeing_review_cases (status, created_at)"),
            // `seq` keeps events of the same millisecond in the order they happened.
            .dialects(
                sqlite: """
                    CREATE TABLE wellbeing_review_events (
                        seq INTEGER PRIMARY KEY,
                        case_id TEXT NOT NULL REFERENCES wellbeing_review_cases(id) ON DELETE CASCADE,
                        actor_id TEXT REFERENCES users(id) ON DELETE SET NULL,
                        actor TEXT NOT NULL,
                        event TEXT NOT NULL,
                        detail TEXT,
                        created_at BIGINT NOT NULL
                    )
                    """,
                postgres: """
                    CREATE TABLE wellbeing_review_events (
                        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                        case_id TEXT NOT NULL REFERENCES wellbeing_review_cases(id) ON DELETE CASCADE,
                        actor_id TEXT REFERENCES users(id) ON DELETE SET NULL,
                        actor TEXT NOT NULL,
                        event TEXT NOT NULL,
                        detail TEXT,
                        created_at BIGINT NOT NULL
                    )
                    """),
            .both("CREATE INDEX wellbeing_review_events_by_case ON wellbeing_review_events (case_id, seq)"),
        ]),
        // Saved memories (ParleyMemory): the text, its sentence embedding (base64 little-endian Float32, with the
        // model that made it, so a model change can be detected and re-embedded), and `search_terms`: the words
        // and CJK character bigrams full-text search indexes (`MemorySearchTerms`), since neither backend's
        // tokenizer splits Chinese. SQLite keeps an FTS5 index in step by triggers (cascaded deletes fire them);
        // PostgreSQL a generated tsvector under a GIN index.
        Migration(version: 5, name: "memories", statements: [
            .both("""
                CREATE TABLE memories (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    text TEXT NOT NULL CHECK (length(text) > 0),
                    search_terms TEXT NOT NULL,
                    embedding TEXT NOT NULL,
                    embedding_model TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """),
            .both("CREATE INDEX memories_by_user ON memories (user_id, created_at)"),
            .dialects(
                sqlite: "CREATE VIRTUAL TABLE memories_fts USING fts5(memory_id UNINDEXED, user_id UNINDEXED, terms, tokenize = 'unicode61')",
                postgres: "ALTER TABLE memories ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_terms)) STORED"),
            // SQLite runs the three triggers as one multi-statement script; PostgreSQL indexes the tsvector.
            .dialects(
                sqlite: """
                    CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
                        INSERT INTO memories_fts (memory_id, user_id, terms) VALUES (new.id, new.user_id, new.search_terms);
                    END;
                    CREATE TRIGGER memories_fts_update AFTER UPDATE OF search_terms ON memories BEGIN
                        UPDATE memories_fts SET terms = new.search_terms WHERE memory_id = old.id;
                    END;
                    CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
                        DELETE FROM memories_fts WHERE memory_id = old.id;
                    END
                    """,
                postgres: "CREATE INDEX memories_search ON memories USING GIN (search_vector)"),
        ]),
        // The arena (blind pairwise votes), benchmark figures beside it, and chat providers with encrypted keys
        // (ArenaSchema.swift).
        Migration(version: 6, name: "arena_and_providers", statements: ArenaSchema.statements),
        // Memory in chat (issue 9): the per-user auto-memory switch, temporary conversations (they neither read
        // nor write memory), and the index of the user's earlier messages that chat-history reference searches,
        // kept like `memories` (search terms with FTS5 triggers / a generated tsvector, base64 embeddings).
        // Everything cascades from the user, and snippets from their conversation.
        Migration(version: 7, name: "memory_chat", statements: [
            .both("""
                CREATE TABLE memory_settings (
                    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                    auto_memory INTEGER NOT NULL DEFAULT 1 CHECK (auto_memory IN (0, 1)),
                    updated_at BIGINT NOT NULL
                )
                """),
            .both("""
                CREATE TABLE temporary_conversations (
                    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE
                )
                """),
            .both("""
                CREATE TABLE history_snippets (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                    message_id TEXT NOT NULL,
                    text TEXT NOT NULL CHECK (length(text) > 0),
                    search_terms TEXT NOT NULL,
                    embedding TEXT NOT NULL,
                    embedding_model TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """),
            .both("CREATE INDEX history_snippets_by_user ON history_snippets (user_id, created_at)"),
            .both("CREATE INDEX history_snippets_by_conversation ON history_snippets (conversation_id)"),
            .dialects(
                sqlite: "CREATE VIRTUAL TABLE history_snippets_fts USING fts5(snippet_id UNINDEXED, user_id UNINDEXED, terms, tokenize = 'unicode61')",
                postgres: "ALTER TABLE history_snippets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_terms)) STORED"),
            .dialects(
                sqlite: """
                    CREATE TRIGGER history_snippets_fts_insert AFTER INSERT ON history_snippets BEGIN
                        INSERT INTO history_snippets_fts (snippet_id, user_id, terms) VALUES (new.id, new.user_id, new.search_terms);
                    END;
                    CREATE TRIGGER history_snippets_fts_delete AFTER DELETE ON history_snippets BEGIN
                        DELETE FROM history_snippets_fts WHERE snippet_id = old.id;
                    END
                    """,
                postgres: "CREATE INDEX history_snippets_search ON history_snippets USING GIN (search_vector)"),
        ]),
        // Projects (issue 9): conversations grouped with shared instructions and files; each file's extracted text
        // in chunks indexed like memories (search terms with FTS5 triggers / a generated tsvector, base64
        // embeddings). A project's deletion takes its files and chunks and leaves its conversations; the user's
        // takes everything.
        Migration(version: 8, name: "chat_projects", statements: [
            .both("""
                CREATE TABLE chat_projects (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    name TEXT NOT NULL CHECK (length(name) > 0),
                    instructions TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """),
            .both("CREATE INDEX chat_projects_by_user ON chat_projects (user_id, updated_at)"),
            .both("""
                CREATE TABLE chat_project_conversations (
                    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
                    project_id TEXT NOT NULL REFERENCES chat_projects(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE
                )
                """),
            .both("CREATE INDEX chat_project_conversations_by_project ON chat_project_conversations (project_id)"),
            .both("""
                CREATE TABLE chat_project_files (
                    id TEXT PRIMARY KEY,
                    project_id TEXT NOT NULL REFERENCES chat_projects(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    media_type TEXT NOT NULL,
                    size BIGINT NOT NULL,
                    chunk_count BIGINT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """),
            .both("CREATE INDEX chat_project_files_by_project ON chat_project_files (project_id, created_at)"),
            .both("""
                CREATE TABLE chat_project_chunks (
                    id TEXT PRIMARY KEY,
                    file_id TEXT NOT NULL REFERENCES chat_project_files(id) ON DELETE CASCADE,
                    project_id TEXT NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    ordinal BIGINT NOT NULL,
                    text TEXT NOT NULL CHECK (length(text) > 0),
                    search_terms TEXT NOT NULL,
                    embedding TEXT NOT NULL,
                    embedding_model TEXT NOT NULL
                )
                """),
            .both("CREATE INDEX chat_project_chunks_by_project ON chat_project_chunks (project_id)"),
            .both("CREATE INDEX chat_project_chunks_by_file ON chat_project_chunks (file_id)"),
            .dialects(
                sqlite: "CREATE VIRTUAL TABLE chat_project_chunks_fts USING fts5(chunk_id UNINDEXED, project_id UNINDEXED, terms, tokenize = 'unicode61')",
                postgres: "ALTER TABLE chat_project_chunks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_terms)) STORED"),
            .dialects(
                sqlite: """
                    CREATE TRIGGER chat_project_chunks_fts_insert AFTER INSERT ON chat_project_chunks BEGIN
                        INSERT INTO chat_project_chunks_fts (chunk_id, project_id, terms) VALUES (new.id, new.project_id, new.search_terms);
                    END;
                    CREATE TRIGGER chat_project_chunks_fts_delete AFTER DELETE ON chat_project_chunks BEGIN
                        DELETE FROM chat_project_chunks_fts WHERE chunk_id = old.id;
                    END
                    """,
                postgres: "CREATE INDEX chat_project_chunks_search ON chat_project_chunks USING GIN (search_vector)"),
        ]),
    ]

    /// The version a fully migrated database is at.
    static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Checks the list once: versions strictly increasing from 1.
    static func checkOrder() {
        for (index, migration) in migrations.enumerated() {
            precondition(migration.version == index + 1, "migration \(migration.name) is out of order")
        }
    }

    static func tooNew(_ found: Int) -> StoreError {
        .unavailable("the database schema is at version \(found), newer than this build knows (\(latestVersion)); upgrade Parley")
    }
}

/// The schema this build of the store migrates to.
public enum StoreSchema {
    /// What `migrate()` returns on an up-to-date database.
    public static var version: Int { Schema.latestVersion }
}
