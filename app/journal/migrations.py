"""Versioned schema. Each step runs once, in its own transaction, and bumps PRAGMA user_version.

Append new steps; never edit a released one. Nothing here may hold a full PAN, track data, CVV or PIN block.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE counters (
            name  TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        );
        INSERT INTO counters (name, value) VALUES ('next_trace', 1), ('batch', 1);

        CREATE TABLE transactions (
            trace            INTEGER PRIMARY KEY,      -- STAN / 凭证号, never reused
            batch            INTEGER NOT NULL,
            kind             TEXT    NOT NULL,
            state            TEXT    NOT NULL,
            amount_minor     INTEGER NOT NULL CHECK (amount_minor >= 0),
            currency         TEXT    NOT NULL,
            created_at       TEXT    NOT NULL,         -- UTC, ISO 8601
            local_date       TEXT    NOT NULL,         -- terminal's calendar day, for look-ups
            updated_at       TEXT    NOT NULL,
            operator         TEXT    NOT NULL,
            supervisor       TEXT,                     -- who authorised a void/refund/pre-auth void
            idempotency_key  TEXT    NOT NULL UNIQUE,
            orig_trace       INTEGER,
            masked_pan       TEXT,                     -- first 6 / last 4 only
            pan_token        TEXT,                     -- HMAC of the PAN under the terminal secret
            brand            TEXT,
            funding          TEXT,
            entry_mode       TEXT,
            cvm              TEXT,
            emv              TEXT,                     -- JSON of non-sensitive EMV tags for the slip
            response_code    TEXT,
            auth_code        TEXT,
            rrn              TEXT,
            balance_minor    INTEGER,
            reason           TEXT,                     -- plain words: why declined / why reversed
            reversal_attempts INTEGER NOT NULL DEFAULT 0,
            reversal_error   TEXT
        );
        CREATE INDEX transactions_batch ON transactions (batch, kind, state);
        CREATE INDEX transactions_unresolved ON transactions (state)
            WHERE state IN ('pending', 'reversal_pending');
        CREATE INDEX transactions_orig ON transactions (orig_trace) WHERE orig_trace IS NOT NULL;
        CREATE INDEX transactions_date ON transactions (local_date);
        CREATE INDEX transactions_created ON transactions (created_at);
        CREATE INDEX transactions_amount ON transactions (amount_minor);
        CREATE INDEX transactions_rrn ON transactions (rrn) WHERE rrn IS NOT NULL;

        CREATE TABLE operators (
            id          TEXT PRIMARY KEY,
            role        TEXT    NOT NULL,
            salt        BLOB    NOT NULL,
            digest      BLOB    NOT NULL,
            cost        INTEGER NOT NULL,
            failures    INTEGER NOT NULL DEFAULT 0,
            locked_at   TEXT,
            created_at  TEXT    NOT NULL
        );

        CREATE TABLE session (
            slot          INTEGER PRIMARY KEY CHECK (slot = 1),
            operator      TEXT NOT NULL,
            signed_in_at  TEXT NOT NULL
        );

        CREATE TABLE working_keys (
            usage        TEXT PRIMARY KEY,              -- pin / mac / data
            key_block    TEXT NOT NULL,                 -- TR-31 block, still wrapped under the master key
            kcv          TEXT NOT NULL,
            received_at  TEXT NOT NULL
        );

        CREATE TABLE settlements (
            batch            INTEGER PRIMARY KEY,
            state            TEXT NOT NULL,
            started_at       TEXT NOT NULL,
            finished_at      TEXT,
            idempotency_key  TEXT NOT NULL,
            terminal_totals  TEXT NOT NULL,
            acquirer_totals  TEXT,
            matched          INTEGER,
            differences      TEXT,
            first_trace      INTEGER,
            last_trace       INTEGER
        );

        CREATE TABLE audit (
            id      INTEGER PRIMARY KEY,
            at      TEXT NOT NULL,
            actor   TEXT NOT NULL,
            event   TEXT NOT NULL,
            detail  TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX audit_at ON audit (at);
        """,
    ),
    (
        2,
        """
        CREATE TABLE meta (
            key    TEXT PRIMARY KEY,                  -- small facts about the terminal itself
            value  TEXT NOT NULL
        );
        """,
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]
