"""Schema migrations of the leaderboard store (PRAGMA user_version = number applied).

Each entry moves the schema from version i to i + 1; never edit a shipped one. Statements are split on
";" (no ";" inside a statement). Foreign keys are off while they run (3 rebuilds tables).
"""
from __future__ import annotations

_V1 = """
CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    spec TEXT NOT NULL, family TEXT, kind TEXT,
    suite TEXT NOT NULL, suite_version TEXT NOT NULL, resolution TEXT NOT NULL, modality TEXT NOT NULL,
    text_backend TEXT NOT NULL, face_backend TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('run', 'submission', 'reference')),
    label TEXT, origin TEXT,
    bits_per_pixel REAL,
    digest TEXT NOT NULL,
    data TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (spec, suite, suite_version, resolution, text_backend, face_backend)
);
CREATE TABLE instances (
    result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
    image TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('text', 'face')), idx INTEGER NOT NULL,
    ratio REAL, gt TEXT, pred TEXT, t_acc REAL, t_ned REAL, f_sim REAL, f_kept REAL, psnr REAL, ssim REAL,
    crop TEXT, orig_png BLOB, recon_png BLOB,
    PRIMARY KEY (result_id, image, kind, idx)
);
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    submitted_at TEXT NOT NULL, decided_at TEXT,
    note TEXT, spec TEXT NOT NULL, suite TEXT NOT NULL, resolution TEXT NOT NULL,
    results TEXT NOT NULL, bundle BLOB, result_id INTEGER
);
"""

_V2 = "CREATE INDEX instances_by_kind ON instances (result_id, kind);"

# 3: versioned rows (never replaced), a group per row (measured or a published reference set), verification
# status, video frames in the instance key, face crop landmarks, submission content hashes and clients,
# and the registry of known suites. Rows of earlier stores were never verified: they become `unverified`
# (reference rows: `reference`, group "reference: <label>").
_V3 = """
CREATE TABLE results_v3 (
    id INTEGER PRIMARY KEY,
    grp TEXT NOT NULL,
    spec TEXT NOT NULL, family TEXT, kind TEXT,
    suite TEXT NOT NULL, suite_version TEXT NOT NULL, resolution TEXT NOT NULL, modality TEXT NOT NULL,
    text_backend TEXT NOT NULL, face_backend TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    status TEXT NOT NULL CHECK (status IN ('verified', 'unverified', 'reference')),
    source TEXT NOT NULL CHECK (source IN ('run', 'submission', 'reference')),
    label TEXT, origin TEXT,
    bits_per_pixel REAL,
    digest TEXT NOT NULL, data_digest TEXT NOT NULL,
    manifest_sha256 TEXT,
    verification TEXT,
    data TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (grp, spec, suite, suite_version, resolution, text_backend, face_backend, version)
);
INSERT INTO results_v3 (id, grp, spec, family, kind, suite, suite_version, resolution, modality, text_backend,
    face_backend, version, status, source, label, origin, bits_per_pixel, digest, data_digest, manifest_sha256,
    verification, data, imported_at)
SELECT id, CASE WHEN source = 'reference' THEN 'reference: ' || COALESCE(label, 'unlabelled') ELSE 'measured' END,
    spec, family, kind, suite, suite_version, resolution, modality, text_backend, face_backend, 1,
    CASE WHEN source = 'reference' THEN 'reference' ELSE 'unverified' END, source, label, origin, bits_per_pixel,
    digest, digest, NULL, NULL, data, imported_at FROM results;
CREATE TABLE instances_v3 (
    result_id INTEGER NOT NULL REFERENCES results(id),
    image TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('text', 'face')),
    frame INTEGER NOT NULL DEFAULT -1, idx INTEGER NOT NULL,
    ratio REAL, gt TEXT, pred TEXT, t_acc REAL, t_ned REAL, f_sim REAL, f_kept REAL, psnr REAL, ssim REAL,
    crop TEXT, landmarks TEXT, orig_png BLOB, recon_png BLOB,
    PRIMARY KEY (result_id, image, kind, frame, idx)
);
INSERT INTO instances_v3 (result_id, image, kind, frame, idx, ratio, gt, pred, t_acc, t_ned, f_sim, f_kept, psnr,
    ssim, crop, landmarks, orig_png, recon_png)
SELECT result_id, image, kind, -1, idx, ratio, gt, pred, t_acc, t_ned, f_sim, f_kept, psnr, ssim, crop, NULL,
    orig_png, recon_png FROM instances;
DROP TABLE instances;
DROP TABLE results;
ALTER TABLE results_v3 RENAME TO results;
ALTER TABLE instances_v3 RENAME TO instances;
CREATE INDEX instances_by_kind ON instances (result_id, kind);
CREATE INDEX results_by_digest ON results (data_digest);
ALTER TABLE submissions ADD COLUMN content_hash TEXT;
ALTER TABLE submissions ADD COLUMN client TEXT;
ALTER TABLE submissions ADD COLUMN reason TEXT;
UPDATE submissions SET content_hash = 'legacy-' || id;
CREATE UNIQUE INDEX submissions_pending_content ON submissions (content_hash) WHERE status = 'pending';
CREATE INDEX submissions_by_client ON submissions (client, submitted_at);
CREATE TABLE suites (
    name TEXT NOT NULL, version TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    modality TEXT NOT NULL,
    resolutions TEXT NOT NULL,
    buckets TEXT NOT NULL,
    truth BLOB NOT NULL,
    instances INTEGER NOT NULL,
    registered_at TEXT NOT NULL, origin TEXT,
    PRIMARY KEY (name, version)
)
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3)
