-- The migrations up to head, rendered by alembic's offline mode for a new
-- sqlite database. Generated: python -m catalog_sync.storage.migrate

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE models (
    id INTEGER NOT NULL, 
    name VARCHAR(255) NOT NULL, 
    label TEXT, 
    type VARCHAR(64), 
    provider VARCHAR(64), 
    base_cost FLOAT NOT NULL, 
    has_audio BOOLEAN, 
    raw JSON NOT NULL, 
    content_hash VARCHAR(64) NOT NULL, 
    first_seen_at DATETIME NOT NULL, 
    removed_at DATETIME, 
    CONSTRAINT pk_models PRIMARY KEY (id), 
    CONSTRAINT uq_models_name UNIQUE (name)
);

CREATE TABLE sync_runs (
    id INTEGER NOT NULL, 
    started_at DATETIME NOT NULL, 
    finished_at DATETIME, 
    observed_at DATETIME, 
    status VARCHAR(16) NOT NULL, 
    "trigger" VARCHAR(32) NOT NULL, 
    models_seen INTEGER, 
    models_added INTEGER, 
    models_updated INTEGER, 
    models_removed INTEGER, 
    models_restored INTEGER, 
    price_changes INTEGER, 
    error TEXT, 
    CONSTRAINT pk_sync_runs PRIMARY KEY (id)
);

CREATE INDEX ix_sync_runs_status_finished_at ON sync_runs (status, finished_at);

CREATE TABLE tags (
    id INTEGER NOT NULL, 
    name VARCHAR(255) NOT NULL, 
    CONSTRAINT pk_tags PRIMARY KEY (id), 
    CONSTRAINT uq_tags_name UNIQUE (name)
);

CREATE TABLE capabilities (
    model_id INTEGER NOT NULL, 
    name VARCHAR(255) NOT NULL, 
    position INTEGER NOT NULL, 
    value TEXT, 
    CONSTRAINT pk_capabilities PRIMARY KEY (model_id, name, position), 
    CONSTRAINT fk_capabilities_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE CASCADE
)
 WITHOUT ROWID;

CREATE INDEX ix_capabilities_name_value ON capabilities (name, value);

CREATE TABLE catalog_changes (
    id INTEGER NOT NULL, 
    sync_run_id INTEGER NOT NULL, 
    model_id INTEGER NOT NULL, 
    changed_at DATETIME NOT NULL, 
    kind VARCHAR(16) NOT NULL, 
    field VARCHAR(255), 
    old_value JSON, 
    new_value JSON, 
    CONSTRAINT pk_catalog_changes PRIMARY KEY (id), 
    CONSTRAINT fk_catalog_changes_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE CASCADE, 
    CONSTRAINT fk_catalog_changes_sync_run_id_sync_runs FOREIGN KEY(sync_run_id) REFERENCES sync_runs (id)
);

CREATE INDEX ix_catalog_changes_changed_at ON catalog_changes (changed_at);

CREATE INDEX ix_catalog_changes_model_id_changed_at ON catalog_changes (model_id, changed_at);

CREATE TABLE cost_history (
    id INTEGER NOT NULL, 
    model_id INTEGER NOT NULL, 
    base_cost FLOAT NOT NULL, 
    valid_from DATETIME NOT NULL, 
    valid_to DATETIME, 
    sync_run_id INTEGER NOT NULL, 
    CONSTRAINT pk_cost_history PRIMARY KEY (id), 
    CONSTRAINT fk_cost_history_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE CASCADE, 
    CONSTRAINT fk_cost_history_sync_run_id_sync_runs FOREIGN KEY(sync_run_id) REFERENCES sync_runs (id)
);

CREATE INDEX ix_cost_history_model_id_valid_from ON cost_history (model_id, valid_from);

CREATE INDEX ix_cost_history_valid_from ON cost_history (valid_from);

CREATE UNIQUE INDEX uq_cost_history_open_period ON cost_history (model_id) WHERE valid_to IS NULL;

CREATE TABLE model_tags (
    model_id INTEGER NOT NULL, 
    tag_id INTEGER NOT NULL, 
    CONSTRAINT pk_model_tags PRIMARY KEY (model_id, tag_id), 
    CONSTRAINT fk_model_tags_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE CASCADE, 
    CONSTRAINT fk_model_tags_tag_id_tags FOREIGN KEY(tag_id) REFERENCES tags (id) ON DELETE CASCADE
)
 WITHOUT ROWID;

CREATE INDEX ix_model_tags_tag_id ON model_tags (tag_id);

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING version_num;

-- Running upgrade 0001 -> 0002

ALTER TABLE sync_runs ADD COLUMN notified_at DATETIME;

ALTER TABLE sync_runs ADD COLUMN notify_error TEXT;

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

-- Running upgrade 0002 -> 0003

CREATE INDEX ix_sync_runs_status_observed_at ON sync_runs (status, observed_at);

CREATE VIEW current_models AS
SELECT
    m.id AS model_id,
    m.name,
    m.label,
    m.type,
    m.provider,
    m.base_cost,
    m.has_audio,
    (SELECT group_concat(x.v, ',') FROM (SELECT t.name AS v FROM model_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.model_id = m.id ORDER BY v) AS x) AS tags,
    (SELECT group_concat(x.v, ',') FROM (SELECT c.value AS v, c.position AS position FROM capabilities c WHERE c.model_id = m.id AND c.name = 'supported_aspect_ratios' ORDER BY position) AS x) AS supported_aspect_ratios,
    (SELECT c.value FROM capabilities c WHERE c.model_id = m.id AND c.name = 'default_aspect_ratio' AND c.position = 0) AS default_aspect_ratio,
    (SELECT group_concat(x.v, ',') FROM (SELECT c.value AS v, c.position AS position FROM capabilities c WHERE c.model_id = m.id AND c.name = 'supported_resolutions' ORDER BY position) AS x) AS supported_resolutions,
    (SELECT c.value FROM capabilities c WHERE c.model_id = m.id AND c.name = 'default_resolution' AND c.position = 0) AS default_resolution,
    (SELECT group_concat(x.v, ',') FROM (SELECT c.value AS v, c.position AS position FROM capabilities c WHERE c.model_id = m.id AND c.name = 'supported_durations' ORDER BY position) AS x) AS supported_durations,
    CAST((SELECT c.value FROM capabilities c WHERE c.model_id = m.id AND c.name = 'default_duration' AND c.position = 0) AS INTEGER) AS default_duration,
    CAST((SELECT c.value FROM capabilities c WHERE c.model_id = m.id AND c.name = 'min_images' AND c.position = 0) AS INTEGER) AS min_images,
    CAST((SELECT c.value FROM capabilities c WHERE c.model_id = m.id AND c.name = 'max_images' AND c.position = 0) AS INTEGER) AS max_images,
    m.first_seen_at
FROM models m
WHERE m.removed_at IS NULL;

CREATE VIEW price_changes AS
WITH periods AS (
    SELECT
        ch.model_id,
        ch.base_cost,
        ch.valid_from,
        ch.sync_run_id,
        LAG(ch.base_cost) OVER w AS old_cost,
        LAG(ch.valid_from) OVER w AS old_from,
        LAG(ch.valid_to) OVER w AS old_to
    FROM cost_history ch
    WINDOW w AS (PARTITION BY ch.model_id ORDER BY ch.valid_from, ch.id)
)
SELECT
    p.model_id,
    m.name,
    m.provider,
    m.type,
    p.old_cost,
    p.base_cost AS new_cost,
    ROUND(CAST(p.base_cost - p.old_cost AS NUMERIC), 6) AS delta,
    CASE WHEN p.old_cost <> 0
        THEN ROUND(CAST(100 * (p.base_cost - p.old_cost) / p.old_cost AS NUMERIC), 2)
    END AS pct_change,
    p.valid_from AS changed_at,
    p.sync_run_id,
    (
        SELECT MAX(r.observed_at) FROM sync_runs r
        WHERE r.status = 'success' AND r.observed_at >= p.old_from AND r.observed_at < p.old_to
    ) AS previous_observed_at
FROM periods p
JOIN models m ON m.id = p.model_id
WHERE p.old_cost IS NOT NULL AND p.old_cost <> p.base_cost;

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';

-- Running upgrade 0003 -> 0004

CREATE TABLE payloads (
    sha256 VARCHAR(64) NOT NULL, 
    first_seen_at DATETIME NOT NULL, 
    size BIGINT NOT NULL, 
    stored_size BIGINT NOT NULL, 
    body BLOB NOT NULL, 
    CONSTRAINT pk_payloads PRIMARY KEY (sha256)
);

CREATE INDEX ix_payloads_first_seen_at ON payloads (first_seen_at);

ALTER TABLE sync_runs ADD COLUMN payload_sha256 VARCHAR(64);

CREATE INDEX ix_sync_runs_payload_sha256 ON sync_runs (payload_sha256);

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003';

-- Running upgrade 0004 -> 0005

CREATE INDEX ix_models_name_content_hash_base_cost_removed_at ON models (name, content_hash, base_cost, removed_at);

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0004';

-- Running upgrade 0005 -> 0006

DROP INDEX ix_capabilities_name_value;

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0005';

-- Running upgrade 0006 -> 0007

CREATE TABLE _catalog_changes_new (
    id INTEGER NOT NULL,
    sync_run_id INTEGER NOT NULL,
    model_id INTEGER NOT NULL,
    changed_at DATETIME NOT NULL,
    kind VARCHAR(16) NOT NULL,
    field VARCHAR(255),
    old_value TEXT,
    new_value TEXT,
    CONSTRAINT pk_catalog_changes PRIMARY KEY (id),
    CONSTRAINT fk_catalog_changes_model_id_models FOREIGN KEY(model_id)
        REFERENCES models (id) ON DELETE CASCADE,
    CONSTRAINT fk_catalog_changes_sync_run_id_sync_runs FOREIGN KEY(sync_run_id)
        REFERENCES sync_runs (id)
);

INSERT INTO _catalog_changes_new (id, sync_run_id, model_id, changed_at, kind, field, old_value, new_value) SELECT id, sync_run_id, model_id, changed_at, kind, field, old_value, new_value FROM catalog_changes;

DROP TABLE catalog_changes;

ALTER TABLE _catalog_changes_new RENAME TO catalog_changes;

CREATE INDEX ix_catalog_changes_changed_at ON catalog_changes (changed_at);

CREATE INDEX ix_catalog_changes_model_id_changed_at ON catalog_changes (model_id, changed_at);

UPDATE catalog_changes SET old_value = CAST(old_value AS TEXT) WHERE typeof(old_value) IN ('integer', 'real');

UPDATE catalog_changes SET new_value = CAST(new_value AS TEXT) WHERE typeof(new_value) IN ('integer', 'real');

ALTER TABLE models ADD COLUMN missing_runs INTEGER DEFAULT 0 NOT NULL;

DROP INDEX ix_models_name_content_hash_base_cost_removed_at;

CREATE INDEX ix_models_name_content_hash_base_cost_removed_at_missing_runs ON models (name, content_hash, base_cost, removed_at, missing_runs);

UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006';

-- Running upgrade 0007 -> 0008

CREATE TABLE model_details (
    model_id INTEGER NOT NULL, 
    raw TEXT, 
    fetched_at DATETIME, 
    quoted_at DATETIME, 
    error TEXT, 
    details_failed BOOLEAN DEFAULT (false) NOT NULL, 
    quotes_failed BOOLEAN DEFAULT (false) NOT NULL, 
    CONSTRAINT pk_model_details PRIMARY KEY (model_id), 
    CONSTRAINT fk_model_details_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE CASCADE
);

CREATE TABLE model_settings (
    model_id INTEGER NOT NULL, 
    "key" VARCHAR(255) NOT NULL, 
    type VARCHAR(64), 
    label TEXT, 
    default_value TEXT, 
    affects_cost BOOLEAN DEFAULT (false) NOT NULL, 
    options TEXT, 
    CONSTRAINT pk_model_settings PRIMARY KEY (model_id, "key"), 
    CONSTRAINT fk_model_settings_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE CASCADE
);

CREATE TABLE price_points (
    id INTEGER NOT NULL, 
    model_id INTEGER NOT NULL, 
    params TEXT NOT NULL, 
    cost_per_generation FLOAT NOT NULL, 
    valid_from DATETIME NOT NULL, 
    valid_to DATETIME, 
    sync_run_id INTEGER NOT NULL, 
    CONSTRAINT pk_price_points PRIMARY KEY (id), 
    CONSTRAINT fk_price_points_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE CASCADE, 
    CONSTRAINT fk_price_points_sync_run_id_sync_runs FOREIGN KEY(sync_run_id) REFERENCES sync_runs (id)
);

CREATE INDEX ix_price_points_model_id_params_valid_from ON price_points (model_id, params, valid_from);

CREATE INDEX ix_price_points_valid_from ON price_points (valid_from);

CREATE UNIQUE INDEX uq_price_points_open_period ON price_points (model_id, params) WHERE valid_to IS NULL;

ALTER TABLE sync_runs ADD COLUMN points_changed INTEGER;

ALTER TABLE sync_runs ADD COLUMN details_failed INTEGER;

CREATE VIEW price_point_changes AS
WITH periods AS (
    SELECT
        pp.model_id,
        pp.params,
        pp.cost_per_generation,
        pp.valid_from,
        pp.sync_run_id,
        LAG(pp.cost_per_generation) OVER w AS old_cost
    FROM price_points pp
    WINDOW w AS (PARTITION BY pp.model_id, pp.params ORDER BY pp.valid_from, pp.id)
)
SELECT
    p.model_id,
    m.name AS model,
    m.provider,
    m.type,
    p.params,
    p.old_cost,
    p.cost_per_generation AS new_cost,
    ROUND(CAST(p.cost_per_generation - p.old_cost AS NUMERIC), 6) AS delta,
    CASE WHEN p.old_cost <> 0
        THEN ROUND(CAST(100 * (p.cost_per_generation - p.old_cost) / p.old_cost AS NUMERIC), 2)
    END AS pct_change,
    p.valid_from AS changed_at,
    p.sync_run_id
FROM periods p
JOIN models m ON m.id = p.model_id
WHERE p.old_cost IS NOT NULL AND p.old_cost <> p.cost_per_generation;

UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007';

-- Running upgrade 0008 -> 0009

UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0008';

-- Running upgrade 0009 -> 0010

CREATE TABLE database_identity (
    id INTEGER NOT NULL, 
    uuid VARCHAR(36) NOT NULL, 
    created_at DATETIME NOT NULL, 
    CONSTRAINT pk_database_identity PRIMARY KEY (id)
);

ALTER TABLE sync_runs ADD COLUMN requests INTEGER;

UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009';

-- Running upgrade 0010 -> 0011

UPDATE alembic_version SET version_num='0011' WHERE alembic_version.version_num = '0010';

-- Running upgrade 0011 -> 0012

CREATE TABLE credit_rates (
    id INTEGER NOT NULL, 
    currency TEXT NOT NULL, 
    per_credit TEXT NOT NULL, 
    valid_from DATETIME NOT NULL, 
    valid_to DATETIME, 
    source VARCHAR(16) NOT NULL, 
    note TEXT, 
    recorded_at DATETIME NOT NULL, 
    CONSTRAINT pk_credit_rates PRIMARY KEY (id), 
    CONSTRAINT ck_credit_rates_source CHECK (source IN ('set', 'import')), 
    CONSTRAINT ck_credit_rates_period CHECK (valid_to IS NULL OR valid_to > valid_from)
);

CREATE INDEX ix_credit_rates_currency_valid_from ON credit_rates (currency, valid_from);

CREATE UNIQUE INDEX uq_credit_rates_open_period ON credit_rates (currency) WHERE valid_to IS NULL;

ALTER TABLE cost_history ADD COLUMN last_confirmed_at DATETIME;

ALTER TABLE price_points ADD COLUMN last_confirmed_at DATETIME;

UPDATE cost_history SET last_confirmed_at = COALESCE(
    (
        SELECT MAX(r.observed_at) FROM sync_runs r
        WHERE r.status = 'success'
            AND r.observed_at >= cost_history.valid_from
            AND (cost_history.valid_to IS NULL OR r.observed_at < cost_history.valid_to)
    ),
    valid_from
);

UPDATE price_points SET last_confirmed_at = CASE
    WHEN valid_to IS NULL THEN COALESCE(
        (
            SELECT d.quoted_at FROM model_details d
            WHERE d.model_id = price_points.model_id AND d.quoted_at >= price_points.valid_from
        ),
        valid_from
    )
    ELSE valid_from
END;

CREATE VIEW price_periods AS
WITH costs AS (
    SELECT
        t.model_id,
        CAST(NULL AS TEXT) AS params,
        'base_cost' AS source,
        t.base_cost AS cost_per_generation,
        t.valid_from,
        t.valid_to,
        t.last_confirmed_at,
        t.sync_run_id,
        LAG(t.valid_to) OVER w AS previous_to,
        LAG(t.last_confirmed_at) OVER w AS previous_confirmed_at
    FROM cost_history t
    WINDOW w AS (PARTITION BY t.model_id ORDER BY t.valid_from, t.id)
),
quotes AS (
    SELECT
        t.model_id,
        t.params AS params,
        'quote' AS source,
        t.cost_per_generation AS cost_per_generation,
        t.valid_from,
        t.valid_to,
        t.last_confirmed_at,
        t.sync_run_id,
        LAG(t.valid_to) OVER w AS previous_to,
        LAG(t.last_confirmed_at) OVER w AS previous_confirmed_at
    FROM price_points t
    WINDOW w AS (PARTITION BY t.model_id, t.params ORDER BY t.valid_from, t.id)
),
periods AS (
    SELECT * FROM costs
    UNION ALL
    SELECT * FROM quotes
)
SELECT
    p.model_id,
    m.name AS model,
    m.provider,
    m.type,
    p.params,
    p.source,
    p.cost_per_generation,
    p.valid_from,
    p.valid_to,
    CASE WHEN p.previous_to = p.valid_from THEN p.previous_confirmed_at END AS window_from,
    p.last_confirmed_at,
    p.sync_run_id
FROM periods p
JOIN models m ON m.id = p.model_id;

UPDATE alembic_version SET version_num='0012' WHERE alembic_version.version_num = '0011';

-- Running upgrade 0012 -> 0013

CREATE TABLE alerts_fired (
    id INTEGER NOT NULL, 
    alert TEXT NOT NULL, 
    sync_run_id INTEGER NOT NULL, 
    model TEXT NOT NULL, 
    change_key TEXT NOT NULL, 
    detail TEXT NOT NULL, 
    fired_at DATETIME NOT NULL, 
    delivered BOOLEAN NOT NULL, 
    error TEXT, 
    CONSTRAINT pk_alerts_fired PRIMARY KEY (id), 
    CONSTRAINT fk_alerts_fired_sync_run_id_sync_runs FOREIGN KEY(sync_run_id) REFERENCES sync_runs (id), 
    CONSTRAINT uq_alerts_fired_alert_model_change_key UNIQUE (alert, model, change_key)
);

CREATE INDEX ix_alerts_fired_alert_fired_at ON alerts_fired (alert, fired_at);

CREATE INDEX ix_alerts_fired_sync_run_id ON alerts_fired (sync_run_id);

UPDATE alembic_version SET version_num='0013' WHERE alembic_version.version_num = '0012';

-- Running upgrade 0013 -> 0014

UPDATE cost_history SET last_confirmed_at = NULL WHERE valid_to IS NULL AND model_id IN (SELECT id FROM models WHERE removed_at IS NULL AND missing_runs = 0);

DROP VIEW price_periods;

CREATE VIEW price_periods AS
WITH costs AS (
    SELECT
        t.model_id,
        CAST(NULL AS TEXT) AS params,
        'base_cost' AS source,
        t.base_cost AS cost_per_generation,
        t.valid_from,
        t.valid_to,
        COALESCE(t.last_confirmed_at, CASE WHEN t.valid_to IS NULL
            THEN (SELECT MAX(r.observed_at) FROM sync_runs r WHERE r.status = 'success')
        END) AS last_confirmed_at,
        t.sync_run_id,
        LAG(t.valid_to) OVER w AS previous_to,
        LAG(t.last_confirmed_at) OVER w AS previous_confirmed_at
    FROM cost_history t
    WINDOW w AS (PARTITION BY t.model_id ORDER BY t.valid_from, t.id)
),
quotes AS (
    SELECT
        t.model_id,
        t.params AS params,
        'quote' AS source,
        t.cost_per_generation AS cost_per_generation,
        t.valid_from,
        t.valid_to,
        t.last_confirmed_at,
        t.sync_run_id,
        LAG(t.valid_to) OVER w AS previous_to,
        LAG(t.last_confirmed_at) OVER w AS previous_confirmed_at
    FROM price_points t
    WINDOW w AS (PARTITION BY t.model_id, t.params ORDER BY t.valid_from, t.id)
),
periods AS (
    SELECT * FROM costs
    UNION ALL
    SELECT * FROM quotes
)
SELECT
    p.model_id,
    m.name AS model,
    m.provider,
    m.type,
    p.params,
    p.source,
    p.cost_per_generation,
    p.valid_from,
    p.valid_to,
    CASE WHEN p.previous_to = p.valid_from THEN p.previous_confirmed_at END AS window_from,
    p.last_confirmed_at,
    p.sync_run_id
FROM periods p
JOIN models m ON m.id = p.model_id;

UPDATE alembic_version SET version_num='0014' WHERE alembic_version.version_num = '0013';

