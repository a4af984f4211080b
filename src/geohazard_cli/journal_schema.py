"""The journal's SQLite schema: forward migrations, one tuple of statements per schema version.

Never edit a released entry; append a new one (``journal.Journal`` runs what a file lacks inside one
transaction and records the version in ``PRAGMA user_version``).
"""

from __future__ import annotations

# Forward migrations: MIGRATIONS[n] takes a journal from schema version n to n + 1. Never edit a
# released entry; append a new one. Statements run one by one inside a single transaction.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE incidents (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
            exercise INTEGER NOT NULL CHECK (exercise IN (0, 1)),
            plan TEXT NOT NULL,                -- the plan profile id it is graded under
            opened_at TEXT NOT NULL,           -- ISO 8601 with offset
            updated_at TEXT NOT NULL,
            closed_at TEXT,
            close_reason TEXT,
            grade TEXT NOT NULL,
            grade_name TEXT NOT NULL,
            response_level TEXT NOT NULL,
            response_level_name TEXT NOT NULL,
            incident TEXT NOT NULL,            -- Incident as JSON; money as decimal text
            call_list TEXT,                    -- the current call list as JSON (null: none)
            created_at TEXT NOT NULL           -- wall clock (UTC) when the row was written
        )""",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            incident_id INTEGER NOT NULL REFERENCES incidents (id),
            kind TEXT NOT NULL
                CHECK (kind IN ('open', 'update', 'level_change', 'call', 'ack', 'close')),
            at TEXT NOT NULL,                  -- when it happened (--at, default now)
            recorded_at TEXT NOT NULL,         -- wall clock (UTC) when it was written
            grade TEXT,
            response_level TEXT,
            details TEXT NOT NULL              -- JSON
        )""",
        "CREATE INDEX events_by_incident ON events (incident_id, seq)",
    ),
    (
        # 2: the paper call sheet's 接听人 (who answered at the unit; the caller, 经办人, is details "by")
        # and 回应时间 (when the unit responded, ISO 8601; the call itself is "at", 呼叫时间).
        "ALTER TABLE events ADD COLUMN answerer TEXT",
        "ALTER TABLE events ADD COLUMN responded_at TEXT",
    ),
    (
        # 3: warning periods are responses too (kind), and each row keeps the lifecycle core's state
        # as a snapshot (null: not yet computed; the next read replays the events). The event kinds
        # are checked by the core, so new kinds need no table rebuild.
        "ALTER TABLE incidents ADD COLUMN response TEXT NOT NULL DEFAULT 'incident'",
        "ALTER TABLE incidents ADD COLUMN state TEXT",
        """CREATE TABLE events_v3 (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            incident_id INTEGER NOT NULL REFERENCES incidents (id),
            kind TEXT NOT NULL,
            at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            grade TEXT,
            response_level TEXT,
            details TEXT NOT NULL,
            answerer TEXT,
            responded_at TEXT
        )""",
        "INSERT INTO events_v3 SELECT seq, incident_id, kind, at, recorded_at, grade, response_level, details, "
        "answerer, responded_at FROM events",
        "DROP TABLE events",
        "ALTER TABLE events_v3 RENAME TO events",
        "CREATE INDEX events_by_incident ON events (incident_id, seq)",
        "CREATE INDEX incidents_by_status ON incidents (status, id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
